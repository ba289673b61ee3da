package mockgitlab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testPEM holds a generated certificate and the PEM encodings of its key.
type testPEM struct {
	cert   string
	pkcs8  string
	pkcs1  string // only for RSA keys
	sec1   string // only for EC keys
	public string // PUBLIC KEY block
}

// genCert creates a self-signed certificate with an ECDSA or RSA key.
func genCert(t *testing.T, useRSA bool) testPEM {
	t.Helper()
	var key crypto.Signer
	var err error
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "agent"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	out := testPEM{cert: enc("CERTIFICATE", der)}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out.pkcs8 = enc("PRIVATE KEY", p8)
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	out.public = enc("PUBLIC KEY", pub)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		out.pkcs1 = enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	case *ecdsa.PrivateKey:
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		out.sec1 = enc("EC PRIVATE KEY", b)
	}
	return out
}

// jsonBody marshals a request body.
func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var allConfigKeys = []string{"id", "agent_id", "url", "public_key", "client_cert", "ca_cert", "tls_host"}

func TestURLConfigJWT(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	base := fmt.Sprintf("/projects/root%%2Ftest/cluster_agents/%d/url_configurations", a.ID)
	agentPath := fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID)

	r := e.post(base, tokMaintainer, `{"url":"grpcs://agent.example.com:4242"}`)
	expectStatus(t, r, 201)
	expectKeys(t, r.body, allConfigKeys...)
	cfg := decode[map[string]any](t, r)
	pk, _ := cfg["public_key"].(string)
	raw, err := base64.StdEncoding.DecodeString(pk)
	if len(pk) != 44 || err != nil || len(raw) != 32 {
		t.Fatalf("public_key %q: %d chars, %d bytes, %v", pk, len(pk), len(raw), err)
	}
	want := fmt.Sprintf(`{"id":1,"agent_id":%d,"url":"grpcs://agent.example.com:4242","public_key":"%s","client_cert":null,"ca_cert":null,"tls_host":null}`, a.ID, pk)
	if r.body != want {
		t.Fatalf("body = %s\nwant %s", r.body, want)
	}
	if got := decode[map[string]any](t, e.get(agentPath, tokDeveloper))["is_receptive"]; got != true {
		t.Fatalf("is_receptive after create = %v", got)
	}

	r = e.get(base, tokMaintainer)
	expect(t, r, 200, "["+want+"]")
	if _, ok := r.header["X-Total"]; ok {
		t.Fatal("URL configuration list has pagination headers")
	}
	expect(t, e.get(base+"/1", tokMaintainer), 200, want)
	expect(t, e.get(base+"/2", tokMaintainer), 404, `{"message":"404 Not Found"}`)
	expect(t, e.del(base+"/2", tokMaintainer), 404, `{"message":"404 Not Found"}`)
	expect(t, e.get(base+"/x", tokMaintainer), 400, `{"error":"url_configuration_id is invalid"}`)

	expect(t, e.post(base, tokMaintainer, `{"url":"grpc://other.example.com"}`), 400,
		`{"message":"400 Bad request - URL configuration already exists for this agent"}`)

	expect(t, e.del(base+"/1", tokMaintainer), 204, "")
	if got := decode[map[string]any](t, e.get(agentPath, tokDeveloper))["is_receptive"]; got != false {
		t.Fatalf("is_receptive after delete = %v", got)
	}
	expect(t, e.get(base, tokMaintainer), 200, "[]")
	expect(t, e.get(base+"/1", tokMaintainer), 404, `{"message":"404 Not Found"}`)
	r = e.post(base, tokMaintainer, `{"url":"grpc://other.example.com"}`)
	expectStatus(t, r, 201)
	if id := decode[map[string]any](t, r)["id"]; id != float64(2) {
		t.Fatalf("second configuration id = %v", id)
	}

	// Unknown agent.
	expect(t, e.get("/projects/20/cluster_agents/999/url_configurations", tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.post("/projects/20/cluster_agents/999/url_configurations", tokMaintainer, `{"url":"grpc://x.example.com"}`), 404, `{"message":"404 Not found"}`)

	// Out of band.
	info, ok := e.srv.URLConfiguration(a.ID)
	if !ok || info.ID != 2 || info.PublicKey == nil || info.ClientCert != nil || info.ClientKey != nil {
		t.Fatalf("URLConfiguration = %+v, %v", info, ok)
	}
	if err := e.srv.DeleteURLConfiguration(a.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.DeleteURLConfiguration(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteURLConfiguration = %v", err)
	}
	if ag, _ := e.srv.Agent(a.ID); ag.IsReceptive {
		t.Fatal("agent still receptive")
	}
}

func TestURLConfigMTLS(t *testing.T) {
	ec := genCert(t, false)
	rs := genCert(t, true)
	ca := genCert(t, false)
	cases := []struct {
		name       string
		cert, key  string
		wantStatus int
	}{
		{"EC SEC1 key", ec.cert, ec.sec1, 201},
		{"EC PKCS8 key", ec.cert, ec.pkcs8, 201},
		{"RSA PKCS1 key", rs.cert, rs.pkcs1, 201},
		{"RSA PKCS8 key", rs.cert, rs.pkcs8, 201},
		// GitLab does not check that the key belongs to the certificate: stored as given.
		{"key of another certificate", ec.cert, rs.pkcs8, 201},
	}
	e := newEnv(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.mustAgent(20, fmt.Sprintf("mtls-%d", i))
			base := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID)
			r := e.post(base, tokMaintainer, jsonBody(t, map[string]string{
				"url": "grpcs://agent.example.com:4242", "client_cert": tc.cert, "client_key": tc.key,
				"ca_cert": ca.cert, "tls_host": "agent.internal",
			}))
			expectStatus(t, r, tc.wantStatus)
			expectKeys(t, r.body, allConfigKeys...)
			cfg := decode[map[string]any](t, r)
			if cfg["public_key"] != nil || cfg["client_cert"] != tc.cert || cfg["ca_cert"] != ca.cert || cfg["tls_host"] != "agent.internal" {
				t.Fatalf("body = %s", r.body)
			}
			if strings.Contains(r.body, "PRIVATE KEY") {
				t.Fatal("response leaks the client key")
			}
			r = e.get(base, tokMaintainer)
			if strings.Contains(r.body, "PRIVATE KEY") || !strings.Contains(r.body, "BEGIN CERTIFICATE") {
				t.Fatalf("list body = %s", r.body)
			}
			info, _ := e.srv.URLConfiguration(a.ID)
			if info.ClientKey == nil || *info.ClientKey != tc.key {
				t.Fatal("client key not stored")
			}
		})
	}
}

func TestURLConfigValidation(t *testing.T) {
	ec := genCert(t, false)
	e := newEnv(t)
	const url = "grpcs://agent.example.com"
	bad := func(msgs ...string) string {
		return `{"message":"400 Bad request - ` + strings.ReplaceAll(rubyArrayInspect(msgs), `"`, `\"`) + `"}`
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"missing url", map[string]any{"tls_host": "x"}, 400, `{"error":"url is missing"}`},
		{"https url", map[string]any{"url": "https://agent.example.com"}, 400, bad(msgURLInvalid)},
		{"empty url", map[string]any{"url": ""}, 400, bad(msgURLInvalid)},
		{"no host", map[string]any{"url": "grpcs://"}, 400, bad(msgURLInvalid)},
		{"not a url", map[string]any{"url": "agent.example.com:443"}, 400, bad(msgURLInvalid)},
		{"bad ca", map[string]any{"url": url, "ca_cert": "not a cert"}, 400, bad(msgCACertInvalid)},
		{"key as ca", map[string]any{"url": url, "ca_cert": ec.pkcs8}, 400, bad(msgCACertInvalid)},
		{"tls_host with scheme and path", map[string]any{"url": url, "tls_host": "https://exmple.com/path"}, 400, bad(msgTLSHostInvalid)},
		{"tls_host with port", map[string]any{"url": url, "tls_host": "example.com:443"}, 400, bad(msgTLSHostInvalid)},
		{"tls_host with space", map[string]any{"url": url, "tls_host": "exa mple.com"}, 400, bad(msgTLSHostInvalid)},
		{"cert without key", map[string]any{"url": url, "client_cert": ec.cert}, 400, bad(msgClientCertBlank)},
		{"key without cert", map[string]any{"url": url, "client_key": ec.pkcs8}, 400, bad(msgClientCertInvalid)},
		{"bad cert", map[string]any{"url": url, "client_cert": "junk", "client_key": ec.pkcs8}, 400, bad(msgClientCertInvalid)},
		{"bad key", map[string]any{"url": url, "client_cert": ec.cert, "client_key": "junk"}, 400, bad(msgClientKeyInvalid)},
		{"public key as key", map[string]any{"url": url, "client_cert": ec.cert, "client_key": ec.public}, 400, bad(msgClientKeyInvalid)},
		{"empty client_key chooses mTLS", map[string]any{"url": url, "client_key": ""}, 400, bad(msgClientCertInvalid, msgClientKeyInvalid)},
		{"empty client_key with a certificate", map[string]any{"url": url, "client_cert": ec.cert, "client_key": ""}, 400, bad(msgClientKeyInvalid)},
		{"blank client_key with a certificate", map[string]any{"url": url, "client_cert": ec.cert, "client_key": " \n"}, 400, bad(msgClientKeyInvalid)},
		{"several", map[string]any{"url": "http://x", "ca_cert": "x", "tls_host": "a/b"}, 400, bad(msgURLInvalid, msgCACertInvalid, msgTLSHostInvalid)},
		{"non-string url", map[string]any{"url": []string{"x"}}, 400, `{"error":"url is invalid"}`},
		{"blank optionals become null", map[string]any{"url": url, "ca_cert": "", "tls_host": "  ", "client_cert": ""}, 201, ""},
		{"null client_key is JWT", map[string]any{"url": url, "client_key": nil}, 201, ""},
		{"ipv4 tls_host", map[string]any{"url": "grpc://10.0.0.1:8080", "tls_host": "10.0.0.1"}, 201, ""},
		{"localhost", map[string]any{"url": "grpcs://localhost:4242"}, 201, ""},
	}
	blankAgent := int64(0)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.mustAgent(20, fmt.Sprintf("v-%d", i))
			if strings.HasPrefix(tc.name, "blank optionals") {
				blankAgent = a.ID
			}
			r := e.post(fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID), tokMaintainer, jsonBody(t, tc.body))
			if tc.want == "" {
				expectStatus(t, r, tc.status)
				return
			}
			expect(t, r, tc.status, tc.want)
			if _, ok := e.srv.URLConfiguration(a.ID); ok {
				t.Fatal("failed create left a configuration")
			}
		})
	}
	// The blank case stored nulls and used JWT.
	cfg, ok := e.srv.URLConfiguration(blankAgent)
	if !ok || cfg.CACert != nil || cfg.TLSHost != nil || cfg.ClientCert != nil || cfg.PublicKey == nil {
		t.Fatalf("blank optionals: %+v, %v", cfg, ok)
	}
}

func TestURLConfigGate(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	expectStatus(t, e.post(fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID), tokMaintainer, `{"url":"grpc://a.example.com"}`), 201)
	e.srv.SetReceptiveAgents(false)
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID)
	cases := []struct{ name, token, method, path, body string }{
		{"list", tokMaintainer, "GET", base, ""},
		{"get", tokMaintainer, "GET", base + "/1", ""},
		{"create without url (before param validation)", tokMaintainer, "POST", base, `{}`},
		{"delete", tokMaintainer, "DELETE", base + "/1", ""},
		{"developer (before the role check)", tokDeveloper, "GET", base, ""},
		{"invalid agent id", tokMaintainer, "GET", "/projects/20/cluster_agents/x/url_configurations", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.send(call{method: tc.method, path: tc.path, token: tc.token, body: tc.body}), 404, `{"message":"404 Not Found"}`)
		})
	}
	// The project lookup comes first.
	expect(t, e.get(base, tokOutsider), 404, `{"message":"404 Project Not Found"}`)
	if _, ok := e.srv.URLConfiguration(a.ID); !ok {
		t.Fatal("gated DELETE deleted the configuration")
	}
	e.srv.SetReceptiveAgents(true)
	expectStatus(t, e.get(base, tokMaintainer), 200)
}

func TestURLConfigDeleteIfUnmodifiedSince(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	e.srv.SetNow(fixedClock(now))
	a := e.mustAgent(20, "agent-1")
	base := fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", a.ID)
	expectStatus(t, e.post(base, tokMaintainer, `{"url":"grpc://a.example.com"}`), 201)
	r := e.send(call{method: http.MethodDelete, path: base + "/1", token: tokMaintainer,
		header: map[string]string{"If-Unmodified-Since": now.Add(-time.Minute).Format(http.TimeFormat)}})
	expect(t, r, 412, `{"message":"412 Precondition Failed"}`)
	r = e.send(call{method: http.MethodDelete, path: base + "/1", token: tokMaintainer,
		header: map[string]string{"If-Unmodified-Since": now.Format(http.TimeFormat)}})
	expect(t, r, 204, "")
}

func TestValidTLSHost(t *testing.T) {
	cases := map[string]bool{
		"example.com": true, "Example.COM": true, "10.0.0.1": true, "[::1]": true, "a_b.example": true, "xn--bcher-kva.example": true,
		"example.com:443": false, "https://example.com": false, "example.com/path": false, "user@example.com": false,
		"[nope]": false, "exa mple": false, "a%2": false, "a?b": false, "a#b": false,
	}
	for h, want := range cases {
		if got := validTLSHost(h); got != want {
			t.Errorf("validTLSHost(%q) = %v, want %v", h, got, want)
		}
	}
}
