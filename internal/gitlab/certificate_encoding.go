package gitlab

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"strings"
)

// URL-configuration certificates travel in one of two forms. GitLab EE 17.x
// takes client_cert, client_key and ca_cert Base64-encoded, and returns
// client_cert and ca_cert Base64-encoded; later GitLab (19.x) takes and returns
// raw PEM. Which release switched is not documented, so the client does not go
// by the version: it sends raw PEM, or the form this GitLab was already seen to
// use, and when GitLab refuses a certificate or the key as not valid PEM (a 400,
// which creates nothing) it sends the same request once more in the other form
// and remembers the form that worked. Answers are decoded whichever form they
// come in, so callers only ever see PEM.

// certificateEncoding is a form of URL-configuration certificates.
type certificateEncoding int

const (
	certUnknown certificateEncoding = iota
	certPEM
	certBase64
)

func (e certificateEncoding) String() string {
	if e == certBase64 {
		return "Base64-encoded PEM"
	}
	return "raw PEM"
}

// other is the form to try when GitLab refuses this one.
func (e certificateEncoding) other() certificateEncoding {
	if e == certBase64 {
		return certPEM
	}
	return certBase64
}

// pemMarker starts every PEM block.
const pemMarker = "-----BEGIN "

// encodingToSend is the form to send first: the one seen, else raw PEM.
func (c *Client) encodingToSend() certificateEncoding {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.certEncoding == certBase64 {
		return certBase64
	}
	return certPEM
}

// sawEncoding records the form this GitLab uses.
func (c *Client) sawEncoding(e certificateEncoding) {
	if e == certUnknown {
		return
	}
	c.mu.Lock()
	c.certEncoding = e
	c.mu.Unlock()
}

// hasCertificates reports whether the options carry anything whose form matters.
func (o *CreateURLConfigurationOptions) hasCertificates() bool {
	for _, s := range []*string{o.ClientCert, o.ClientKey, o.CACert} {
		if s != nil && strings.TrimSpace(*s) != "" {
			return true
		}
	}
	return false
}

// encoded returns a copy of the options with the certificates and the key in
// the given form; blank values are sent as they are.
func (o *CreateURLConfigurationOptions) encoded(e certificateEncoding) *CreateURLConfigurationOptions {
	out := *o
	if e != certBase64 {
		return &out
	}
	for _, p := range []**string{&out.ClientCert, &out.ClientKey, &out.CACert} {
		if *p != nil && strings.TrimSpace(**p) != "" {
			enc := base64.StdEncoding.EncodeToString([]byte(**p))
			*p = &enc
		}
	}
	return &out
}

// decodeCertificates turns Base64-encoded certificates in GitLab's answer into
// PEM and reports the form the answer used (certUnknown when it has no
// certificate, or one in neither form).
func (u *URLConfiguration) decodeCertificates() certificateEncoding {
	seen := certUnknown
	for _, p := range []**string{&u.ClientCert, &u.CACert} {
		if *p == nil {
			continue
		}
		switch pem, form := decodeCertificate(**p); form {
		case certBase64:
			*p = &pem
			seen = certBase64
		case certPEM:
			if seen == certUnknown {
				seen = certPEM
			}
		}
	}
	return seen
}

// decodeCertificate returns PEM and the form s was in: raw PEM as is, Base64
// of PEM decoded; anything else as is, form certUnknown.
func decodeCertificate(s string) (string, certificateEncoding) {
	if strings.Contains(s, pemMarker) {
		return s, certPEM
	}
	compact := strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if data, err := enc.DecodeString(compact); err == nil && strings.Contains(string(data), pemMarker) {
			return string(data), certBase64
		}
	}
	return s, certUnknown
}

// refusedAsNotPEM reports whether a 400 message is GitLab refusing the
// certificates or the key as not valid PEM: what a GitLab that expects the
// other form answers.
func refusedAsNotPEM(message string) bool {
	return strings.Contains(message, "cert must be a valid PEM certificate") ||
		strings.Contains(message, "key must be a valid PEM private key")
}

// SameCertificates reports whether two PEM texts hold the same certificates,
// in the same order: the same DER bytes, whatever the line wrapping, line
// endings, surrounding text or PEM headers. Texts holding no certificate are
// the same only when equal but for surrounding white space.
func SameCertificates(a, b string) bool {
	da, db := certificateDERs(a), certificateDERs(b)
	if len(da) == 0 || len(db) == 0 {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	if len(da) != len(db) {
		return false
	}
	for i := range da {
		if !bytes.Equal(da[i], db[i]) {
			return false
		}
	}
	return true
}

// certificateDERs returns the bytes of every CERTIFICATE block of a PEM text.
func certificateDERs(s string) [][]byte {
	var out [][]byte
	rest := []byte(strings.ReplaceAll(s, "\r\n", "\n"))
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return out
		}
		if block.Type == "CERTIFICATE" {
			out = append(out, block.Bytes)
		}
	}
}
