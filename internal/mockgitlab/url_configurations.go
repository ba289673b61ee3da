package mockgitlab

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// URLConfigInfo describes an agent URL configuration for assertions in tests. Unset fields are nil.
// ClientKey is never exposed by the API but is kept for assertions.
type URLConfigInfo struct {
	ID         int64   `json:"id"`
	AgentID    int64   `json:"agent_id"`
	URL        string  `json:"url"`
	PublicKey  *string `json:"public_key"`
	ClientCert *string `json:"client_cert"`
	CACert     *string `json:"ca_cert"`
	TLSHost    *string `json:"tls_host"`
	ClientKey  *string `json:"client_key"`
}

// URL configuration validation messages (Rails full messages of the model and its validators).
const (
	msgURLInvalid        = "Url is not a valid URL"
	msgCACertInvalid     = "Ca cert must be a valid PEM certificate"
	msgTLSHostInvalid    = "Tls host must be a valid hostname!"
	msgClientCertInvalid = "Client cert must be a valid PEM certificate"
	msgClientKeyInvalid  = "Client key must be a valid PEM private key"
	msgClientCertBlank   = "Client cert must be blank"
)

// urlConfigJSON is the AgentUrlConfiguration entity: all seven keys, null when unset, never client_key.
// Certificates are raw PEM (the newer EE form) or strict Base64 of the PEM (GitLab EE 17.x).
type urlConfigJSON struct {
	ID         int64   `json:"id"`
	AgentID    int64   `json:"agent_id"`
	URL        string  `json:"url"`
	PublicKey  *string `json:"public_key"`
	ClientCert *string `json:"client_cert"`
	CACert     *string `json:"ca_cert"`
	TLSHost    *string `json:"tls_host"`
}

// renderURLConfig builds the JSON of a URL configuration, with certificates in the given encoding.
func renderURLConfig(c *urlConfig, encoding string) urlConfigJSON {
	cert := func(s *string) *string {
		if s == nil || encoding != EncodingBase64 {
			return s
		}
		enc := base64.StdEncoding.EncodeToString([]byte(*s))
		return &enc
	}
	return urlConfigJSON{
		ID:         c.id,
		AgentID:    c.agentID,
		URL:        c.url,
		PublicKey:  c.publicKey,
		ClientCert: cert(c.clientCert),
		CACert:     cert(c.caCert),
		TLSHost:    c.tlsHost,
	}
}

// decodeBase64Params replaces client_cert, client_key and ca_cert by their Base64 decoding, as GitLab EE
// 17.x does (Ruby's Base64.decode64, which skips characters outside the alphabet, so raw PEM decodes to
// bytes that are no certificate).
func (in *urlConfigInput) decodeBase64Params() {
	for _, p := range []**string{&in.clientCert, &in.clientKey, &in.caCert} {
		if *p != nil {
			decoded := rubyDecode64(**p)
			*p = &decoded
		}
	}
}

// rubyDecode64 is Ruby's lenient Base64.decode64 (unpack "m"): characters outside the Base64 alphabet
// are skipped, decoding stops at the first "=", and an incomplete last group yields what bytes it can.
func rubyDecode64(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			b.WriteByte(c)
		}
	}
	clean := b.String()
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(clean)
	if err != nil {
		return ""
	}
	return string(out)
}

// urlConfigInput holds the create parameters.
type urlConfigInput struct {
	url                                 string
	clientCert, clientKey, caCert, host *string
}

// nullifyIfBlank maps blank strings to nil, as the model's nullify_if_blank does.
func nullifyIfBlank(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return s
}

// createURLConfig runs CreateUrlConfigurationService: one configuration per agent, then the model
// validations; JWT mode (no client_key) generates an Ed25519 key pair, mTLS mode stores the client pair.
// As in GitLab, a client_key that is sent at all chooses mTLS, even "" (which then fails validation),
// and the key is not checked against the certificate (a mismatch fails only when GitLab connects).
func (st *store) createURLConfig(a *agent, in urlConfigInput, now time.Time) (*urlConfig, error) {
	if a.urlConfigID != 0 {
		return nil, errURLConfigExists
	}
	mtls := in.clientKey != nil
	clientCert, clientKey := nullifyIfBlank(in.clientCert), nullifyIfBlank(in.clientKey)
	caCert, tlsHost := nullifyIfBlank(in.caCert), nullifyIfBlank(in.host)

	var msgs []string
	if !validAgentURL(in.url) {
		msgs = append(msgs, msgURLInvalid)
	}
	if caCert != nil {
		if !isPEMCertificate(*caCert) {
			msgs = append(msgs, msgCACertInvalid)
		}
	}
	if tlsHost != nil && !validTLSHost(*tlsHost) {
		msgs = append(msgs, msgTLSHostInvalid)
	}
	if mtls {
		certOK := false
		if clientCert != nil {
			certOK = isPEMCertificate(*clientCert)
		}
		if !certOK {
			msgs = append(msgs, msgClientCertInvalid)
		}
		keyOK := false
		if clientKey != nil {
			keyOK = isPEMPrivateKey(*clientKey)
		}
		if !keyOK {
			msgs = append(msgs, msgClientKeyInvalid)
		}
	} else if clientCert != nil {
		msgs = append(msgs, msgClientCertBlank)
	}
	if len(msgs) > 0 {
		return nil, &ValidationError{Messages: msgs}
	}

	st.lastConfigID++
	c := &urlConfig{id: st.lastConfigID, agentID: a.id, url: in.url, caCert: caCert, tlsHost: tlsHost, createdAt: now}
	if mtls {
		c.clientCert, c.clientKey = clientCert, clientKey
	} else {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		pk := base64.StdEncoding.EncodeToString(pub)
		c.publicKey, c.privateKey = &pk, priv.Seed()
	}
	st.urlConfigs[c.id] = c
	a.urlConfigID = c.id
	return c, nil
}

// validAgentURL mirrors the validate_url gem with schemes grpc and grpcs: a URL with one of those
// (lower-case) schemes and a host. Ports, paths and userinfo are allowed.
func validAgentURL(s string) bool {
	if !strings.HasPrefix(s, "grpc://") && !strings.HasPrefix(s, "grpcs://") {
		return false
	}
	if strings.ContainsAny(s, " \t\r\n\\") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return false
	}
	return u.Hostname() != ""
}

// validTLSHost mirrors GitLab's HostValidator: URI-parsing "http://<value>" must give exactly <value>
// as the host, so only a bare host name or IP is accepted (no scheme, port, path or userinfo). The
// characters allowed are those of an RFC 3986 reg-name, or a bracketed IPv6 literal.
func validTLSHost(h string) bool {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		ip := net.ParseIP(h[1 : len(h)-1])
		return ip != nil && strings.Contains(h, ":")
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(h) || !isHex(h[i+1]) || !isHex(h[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return h != ""
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isPEMCertificate reports whether the first PEM CERTIFICATE block of s is an X.509 certificate.
func isPEMCertificate(s string) bool {
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" || block.Type == "X509 CERTIFICATE" {
			_, err := x509.ParseCertificate(block.Bytes)
			return err == nil
		}
	}
}

// isPEMPrivateKey reports whether s holds a PEM private key: PKCS#1 RSA, PKCS#8 or SEC 1 EC (the first
// one found). Encrypted keys and public keys are not private keys that can be read without a
// passphrase, so they fail.
func isPEMPrivateKey(s string) bool {
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
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
			return false
		default:
			continue // e.g. EC PARAMETERS before an EC key
		}
		if err != nil || block.Headers["Proc-Type"] != "" {
			return false
		}
		_, ok := key.(crypto.Signer)
		return ok
	}
}

// urlConfigEndpoint serves the four URL-configuration endpoints. The order of checks is GitLab's:
// project lookup and the receptive-agents gate run in a before block, then parameter validation, then
// the Maintainer check (all four endpoints, so Developers get 403 even on reads), then the agent.
func (s *Server) urlConfigEndpoint(req *apiRequest) *response {
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	if s.urlConfigurationsGated() {
		return errNotFoundPlain() // licence, then instance setting: the same answer
	}
	var errs []string
	agentID := routeInt(req.route.agentSeg, "agent_id", &errs)
	var configID int64
	if req.route.kind == routeConfig {
		configID = routeInt(req.route.childSeg, "url_configuration_id", &errs)
	}
	var in urlConfigInput
	if req.route.kind == routeConfigs && req.method == http.MethodPost {
		in.url = req.params.requiredString("url", &errs)
		in.clientCert = req.params.optionalString("client_cert", &errs)
		in.clientKey = req.params.optionalString("client_key", &errs)
		in.caCert = req.params.optionalString("ca_cert", &errs)
		in.host = req.params.optionalString("tls_host", &errs)
	}
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	if s.settings.CertificateEncoding == EncodingBase64 {
		in.decodeBase64Params()
	}
	if s.st.accessLevel(req.user, p) < accessMaintainer {
		return errForbidden()
	}
	a := s.st.projectAgent(p, agentID)
	if a == nil {
		return errRecordNotFound()
	}

	switch {
	case req.route.kind == routeConfigs && req.method == http.MethodGet:
		items := []urlConfigJSON{}
		if c := s.st.configOf(a); c != nil {
			items = append(items, renderURLConfig(c, s.settings.CertificateEncoding))
		}
		return jsonResponse(http.StatusOK, items)
	case req.route.kind == routeConfigs:
		c, err := s.st.createURLConfig(a, in, s.timestamp())
		if err != nil {
			return badRequest(err)
		}
		return jsonResponse(http.StatusCreated, renderURLConfig(c, s.settings.CertificateEncoding))
	}
	c := s.st.configOf(a)
	if c == nil || c.id != configID {
		return errNotFoundPlain()
	}
	if req.method == http.MethodGet {
		return jsonResponse(http.StatusOK, renderURLConfig(c, s.settings.CertificateEncoding))
	}
	if modifiedSince(req.r, c.createdAt) {
		return errPreconditionFailed()
	}
	s.st.deleteConfig(c)
	return noContent()
}

// URLConfiguration returns the agent's URL configuration, if any.
func (s *Server) URLConfiguration(agentID int64) (URLConfigInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.agents[agentID]
	if a == nil {
		return URLConfigInfo{}, false
	}
	c := s.st.configOf(a)
	if c == nil {
		return URLConfigInfo{}, false
	}
	return URLConfigInfo{
		ID:         c.id,
		AgentID:    c.agentID,
		URL:        c.url,
		PublicKey:  copyString(c.publicKey),
		ClientCert: copyString(c.clientCert),
		CACert:     copyString(c.caCert),
		TLSHost:    copyString(c.tlsHost),
		ClientKey:  copyString(c.clientKey),
	}, true
}

// copyString returns a new pointer to a copy of *s, or nil.
func copyString(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	return &v
}

// DeleteURLConfiguration deletes the agent's URL configuration out of band; the agent's is_receptive
// becomes false.
func (s *Server) DeleteURLConfiguration(agentID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.agents[agentID]
	if a == nil {
		return errorf(ErrNotFound, "agent %d", agentID)
	}
	c := s.st.configOf(a)
	if c == nil {
		return errorf(ErrNotFound, "URL configuration of agent %d", agentID)
	}
	s.st.deleteConfig(c)
	return nil
}

// deleteURLConfigurationByID deletes a URL configuration, given its own id, out of band; its agent's
// is_receptive becomes false, as GitLab's after_destroy callback does.
func (s *Server) deleteURLConfigurationByID(configID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.urlConfigs[configID]
	if c == nil {
		return errorf(ErrNotFound, "URL configuration %d", configID)
	}
	s.st.deleteConfig(c)
	return nil
}
