package provider

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Plan-time checks of a receptive agent's URL configuration, mirroring
// GitLab's model validations so that nothing GitLab would refuse is sent.
// None of them ever quotes a private key.

type agentURLValidator struct{}

// agentURL validates the URL GitLab dials to reach a receptive agent.
func agentURL() validator.String { return agentURLValidator{} }

func (agentURLValidator) Description(context.Context) string {
	return "a grpc:// or grpcs:// URL with a host, e.g. grpcs://agent.example.com:4242"
}

func (v agentURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (agentURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := agentURLProblem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid receptive agent URL", problem)
	}
}

// agentURLProblem says what is wrong with a receptive agent URL, or "". GitLab
// accepts a URL with the scheme grpc or grpcs and a host (port, path and user
// information allowed).
func agentURLProblem(s string) string {
	const example = ` Write it as grpcs://<host>:<port>, e.g. "grpcs://agent.example.com:4242" (grpc:// for a ` +
		`connection without TLS).`
	if strings.ContainsAny(s, " \t\r\n\\") {
		return fmt.Sprintf("%q contains spaces or backslashes.%s", s, example)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("%q is not a URL.%s", s, example)
	}
	// url.Parse lowers the scheme; GitLab is not known to, so it is taken
	// only as written in lower case.
	if written, rest, ok := strings.Cut(s, "://"); ok && written != strings.ToLower(written) &&
		(strings.EqualFold(written, "grpc") || strings.EqualFold(written, "grpcs")) {
		return fmt.Sprintf("%q writes its scheme in capitals: write it in lower case, %q.%s", s,
			strings.ToLower(written)+"://"+rest, example)
	}
	if u.Scheme != "grpc" && u.Scheme != "grpcs" {
		scheme := u.Scheme
		if scheme == "" {
			return fmt.Sprintf("%q has no scheme: GitLab connects to receptive agents over gRPC only.%s", s, example)
		}
		return fmt.Sprintf("%q has the scheme %q, but GitLab connects to receptive agents over gRPC only: the "+
			"scheme must be grpcs (gRPC over TLS) or grpc, in lower case.%s", s, scheme, example)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return fmt.Sprintf("%q has no host.%s", s, example)
	}
	return ""
}

type tlsHostValidator struct{}

// tlsHostName validates a bare host name, as GitLab's HostValidator does.
func tlsHostName() validator.String { return tlsHostValidator{} }

func (tlsHostValidator) Description(context.Context) string {
	return "a bare host name, e.g. agent.example.com: no scheme, port or path"
}

func (v tlsHostValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (tlsHostValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if problem := tlsHostProblem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid TLS host name", problem)
	}
}

// tlsHostProblem says what is wrong with a TLS server name, or "". GitLab
// requires that "http://<value>" parses to exactly <value> as its host: a host
// name, an IPv4 address or a bracketed IPv6 address, and nothing else.
func tlsHostProblem(h string) string {
	const fix = ` Give only the host name the agent's certificate is issued for, e.g. "agent.example.com", or ` +
		`omit tls_host to use the host of url.`
	switch {
	case h == "":
		return "tls_host is empty." + fix
	case strings.Contains(h, "://"):
		return fmt.Sprintf("%q has a scheme.%s", h, fix)
	case strings.ContainsAny(h, "/?#"):
		return fmt.Sprintf("%q has a path, query or fragment.%s", h, fix)
	case strings.Contains(h, "@"):
		return fmt.Sprintf("%q has user information.%s", h, fix)
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		if ip := net.ParseIP(h[1 : len(h)-1]); ip != nil && strings.Contains(h, ":") {
			return ""
		}
		return fmt.Sprintf("%q is not a bracketed IPv6 address.%s", h, fix)
	}
	if strings.Contains(h, ":") {
		return fmt.Sprintf("%q has a port (or is an IPv6 address without brackets).%s", h, fix)
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-._~", c):
		case c > unicode.MaxASCII:
			return fmt.Sprintf("%q contains %q, which is not ASCII: write an internationalised host name in its "+
				"ASCII (punycode) form, as in the agent's certificate, e.g. \"xn--bcher-kva.example\" for "+
				"\"bücher.example\".%s", h, c, fix)
		default:
			return fmt.Sprintf("%q contains %q, which a host name cannot contain.%s", h, c, fix)
		}
	}
	return ""
}

type pemPrivateKeyValidator struct{}

// pemPrivateKey validates an unencrypted PEM private key.
func pemPrivateKey() validator.String { return pemPrivateKeyValidator{} }

func (pemPrivateKeyValidator) Description(context.Context) string {
	return "an unencrypted PEM private key: PKCS#1 RSA, PKCS#8 or SEC 1 EC"
}

func (v pemPrivateKeyValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (pemPrivateKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parsePEMPrivateKey(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid PEM private key", err.Error())
	}
}

// parsePEMPrivateKey parses the first PEM private key in s: PKCS#1 RSA
// ("RSA PRIVATE KEY"), PKCS#8 ("PRIVATE KEY") or SEC 1 EC ("EC PRIVATE KEY",
// possibly after an "EC PARAMETERS" block). Its errors describe the problem
// without quoting the key.
func parsePEMPrivateKey(s string) (crypto.Signer, error) {
	const formats = "give an unencrypted PEM private key: -----BEGIN PRIVATE KEY----- (PKCS#8), " +
		"-----BEGIN RSA PRIVATE KEY----- (PKCS#1) or -----BEGIN EC PRIVATE KEY----- (SEC 1)"
	rest := []byte(s)
	var seen []string
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var key any
		var err error
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted, and GitLab needs it in clear: decrypt it " +
				"(e.g. `openssl pkey -in encrypted.pem -out key.pem`) and " + formats)
		case "EC PARAMETERS":
			continue
		default:
			seen = append(seen, block.Type)
			continue
		}
		if block.Headers["Proc-Type"] != "" {
			return nil, errors.New("the private key is encrypted (Proc-Type header), and GitLab needs it in clear: " +
				"decrypt it (e.g. `openssl pkey -in encrypted.pem -out key.pem`) and " + formats)
		}
		if err != nil {
			return nil, fmt.Errorf("the %s block does not parse as a private key; %s", block.Type, formats)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("the %s block holds a key of an unsupported type (%T); %s", block.Type, key, formats)
		}
		return signer, nil
	}
	if len(seen) > 0 {
		return nil, fmt.Errorf("found PEM blocks of type %s but no private key; %s",
			strings.Join(quoteAll(seen), ", "), formats)
	}
	return nil, errors.New("no PEM block found; " + formats)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// firstPEMCertificate parses the first certificate of a PEM bundle: the leaf,
// whose public key a client key must match.
func firstPEMCertificate(s string) (*x509.Certificate, error) {
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// keyMatchesCertificate reports whether key is the private half of the
// certificate's public key.
func keyMatchesCertificate(key crypto.Signer, cert *x509.Certificate) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
