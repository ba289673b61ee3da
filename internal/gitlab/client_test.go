package gitlab

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNormalizeBaseURL(t *testing.T) {
	t.Parallel()
	ok := []struct{ in, want string }{
		{"https://gitlab.example.com", "https://gitlab.example.com/api/v4"},
		{"https://gitlab.example.com/", "https://gitlab.example.com/api/v4"},
		{"https://gitlab.example.com//", "https://gitlab.example.com/api/v4"},
		{"https://gitlab.example.com/api/v4", "https://gitlab.example.com/api/v4"},
		{"https://gitlab.example.com/api/v4/", "https://gitlab.example.com/api/v4"},
		{"https://gitlab.example.com/api/v4///", "https://gitlab.example.com/api/v4"},
		{"  https://gitlab.example.com/api/v4\n", "https://gitlab.example.com/api/v4"},
		{"http://localhost:8080", "http://localhost:8080/api/v4"},
		{"http://127.0.0.1:8080/gitlab", "http://127.0.0.1:8080/gitlab/api/v4"},
		{"https://example.com/gitlab/api/v4/", "https://example.com/gitlab/api/v4"},
		{"HTTPS://gitlab.example.com", "https://gitlab.example.com/api/v4"},
		{"https://gitlab.example.com/?foo=bar#frag", "https://gitlab.example.com/api/v4"},
		{DefaultBaseURL, DefaultBaseURL},
	}
	for _, tc := range ok {
		got, err := NormalizeBaseURL(tc.in)
		if err != nil {
			t.Errorf("NormalizeBaseURL(%q): unexpected error %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("NormalizeBaseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// Normalizing is idempotent.
		if again, err := NormalizeBaseURL(got); err != nil || again != got {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want it unchanged", got, again, err)
		}
	}

	bad := []string{
		"",
		"   ",
		"gitlab.example.com",
		"gitlab.example.com/api/v4",
		"ftp://gitlab.example.com",
		"file:///etc/passwd",
		"ws://gitlab.example.com",
		"https://",
		"https:///api/v4",
		"://gitlab.example.com",
		"https://gitlab.example.com:notaport",
	}
	for _, in := range bad {
		got, err := NormalizeBaseURL(in)
		if err == nil {
			t.Errorf("NormalizeBaseURL(%q) = %q, want an error", in, got)
			continue
		}
		assertContains(t, "error", err.Error(), "https://gitlab.example.com")
	}
}

func TestNormalizeBaseURLRejectsCredentials(t *testing.T) {
	t.Parallel()
	const password = "hunter2secret"
	const userToken = "glpat-INURLTOKEN"
	cases := []string{
		"https://root:" + password + "@gitlab.example.com",
		"https://root:" + password + "@gitlab.example.com/api/v4",
		"http://root:" + password + "@127.0.0.1:8080/",
		"https://" + userToken + "@gitlab.example.com",
		"https://oauth2:" + password + "@gitlab.example.com",
		// Invalid in another way as well: the credentials must not leak
		// through the other error message either.
		"ftp://root:" + password + "@gitlab.example.com",
		"https://root:" + password + "@gitlab.example.com:notaport",
		"root:" + password + "@gitlab.example.com",
	}
	for _, in := range cases {
		got, err := NormalizeBaseURL(in)
		if err == nil {
			t.Errorf("NormalizeBaseURL(%q) = %q, want an error", in, got)
			continue
		}
		assertNotContains(t, "error of NormalizeBaseURL("+in+")", err.Error(), password, userToken)
	}
	_, err := NormalizeBaseURL("https://root:" + password + "@gitlab.example.com")
	if err == nil {
		t.Fatal("want an error")
	}
	assertContains(t, "error", err.Error(), "credentials", "access token", "gitlab.example.com")
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newCA(t, "test CA")
	client := newLeaf(t, ca, "client", x509.ExtKeyUsageClientAuth)
	other := newLeaf(t, ca, "other", x509.ExtKeyUsageClientAuth)
	garbageFile := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbageFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	const base = "https://gitlab.example.com"

	cases := []struct {
		name        string
		cfg         Config
		want        []string
		mustNotHave []string
	}{
		{
			name: "missing token",
			cfg:  Config{BaseURL: base},
			want: []string{"access token", "[field Token]"},
		},
		{
			name: "bad base URL",
			cfg:  Config{BaseURL: "gitlab.example.com", Token: testToken},
			want: []string{"not a GitLab URL", "[field BaseURL]"},
		},
		{
			name: "garbage inline ca_cert",
			cfg:  Config{BaseURL: base, Token: testToken, CACert: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"},
			want: []string{"[field CACert]"},
		},
		{
			name: "non-PEM inline ca_cert",
			cfg:  Config{BaseURL: base, Token: testToken, CACert: "hello"},
			want: []string{"[field CACert]"},
		},
		{
			name: "missing cacert_file",
			cfg:  Config{BaseURL: base, Token: testToken, CACertFile: filepath.Join(dir, "does-not-exist.pem")},
			want: []string{"[field CACertFile]", "does-not-exist.pem"},
		},
		{
			name: "cacert_file without a certificate",
			cfg:  Config{BaseURL: base, Token: testToken, CACertFile: garbageFile},
			want: []string{"[field CACertFile]", "no PEM certificate"},
		},
		{
			name: "client_cert without client_key",
			cfg:  Config{BaseURL: base, Token: testToken, ClientCert: client.certPEM},
			want: []string{"[field ClientCert]", "its key"},
		},
		{
			name:        "client_key without client_cert",
			cfg:         Config{BaseURL: base, Token: testToken, ClientKey: client.keyPEM},
			want:        []string{"[field ClientCert]", "its key"},
			mustNotHave: []string{client.keyPEM[40:80]},
		},
		{
			name: "client_cert file missing",
			cfg:  Config{BaseURL: base, Token: testToken, ClientCert: filepath.Join(dir, "nope.crt"), ClientKey: client.keyPEM},
			want: []string{"[field ClientCert]", "client certificate"},
		},
		{
			name: "client_key file missing",
			cfg:  Config{BaseURL: base, Token: testToken, ClientCert: client.certPEM, ClientKey: filepath.Join(dir, "nope.key")},
			want: []string{"[field ClientKey]", "client key"},
		},
		{
			name:        "client_cert and client_key do not match",
			cfg:         Config{BaseURL: base, Token: testToken, ClientCert: client.certPEM, ClientKey: other.keyPEM},
			want:        []string{"key pair"},
			mustNotHave: []string{other.keyPEM[40:80], "PRIVATE KEY"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error", c)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a ConfigError", err)
			}
			assertContains(t, "error", err.Error()+" [field "+ce.Field+"]", tc.want...)
			assertNotContains(t, "error", err.Error(), tc.mustNotHave...)
			assertNotContains(t, "error", err.Error(), testToken)
		})
	}
}

func TestNewMakesNoRequest(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		writeJSON(w, http.StatusOK, `{}`)
	}))
	c := newTestClient(t, srv.URL, 5)
	if n := reqs.count(); n != 0 {
		t.Errorf("New made %d requests, want 0", n)
	}
	if got, want := c.BaseURL(), srv.URL+"/api/v4"; got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		switch r.Method {
		case http.MethodPost:
			writeJSON(w, http.StatusCreated, `{"id":1,"name":"a"}`)
		default:
			writeJSON(w, http.StatusOK, `{"id":1,"username":"root"}`)
		}
	}))
	c, err := New(Config{BaseURL: srv.URL, Token: testToken, UserAgent: "terraform-provider-gitlabagent/1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.CheckAuth(ctx); err != nil {
		t.Fatalf("CheckAuth: %v", err)
	}
	if _, _, err := c.RegisterAgent(ctx, "root/test", "a"); err != nil {
		t.Fatalf("RegisterAgent: %v", err)
	}
	got := reqs.all()
	if len(got) != 2 {
		t.Fatalf("got %d requests, want 2", len(got))
	}
	if got[0].EscapedPath != "/api/v4/user" {
		t.Errorf("CheckAuth requested %s, want /api/v4/user", got[0].EscapedPath)
	}
	for _, r := range got {
		if ua := r.Header.Get("User-Agent"); ua != "terraform-provider-gitlabagent/1.2.3" {
			t.Errorf("%s %s: User-Agent = %q", r.Method, r.EscapedPath, ua)
		}
		if a := r.Header.Get("Authorization"); a != "Bearer "+testToken {
			t.Errorf("%s %s: Authorization = %q, want the token as Bearer", r.Method, r.EscapedPath, a)
		}
		if tok := r.Header.Get("PRIVATE-TOKEN"); tok != "" {
			t.Errorf("%s %s: unexpected PRIVATE-TOKEN header %q", r.Method, r.EscapedPath, tok)
		}
		if strings.Contains(r.Query, testToken) {
			t.Errorf("%s %s: token sent in the query string", r.Method, r.EscapedPath)
		}
	}
	if ct := got[1].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST Content-Type = %q, want application/json", ct)
	}
}

func TestTLSCustomCA(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "Test GitLab CA")
	leaf := newLeaf(t, ca, "gitlab.test", x509.ExtKeyUsageServerAuth)
	srv := newTLSServer(t, userHandler(t), leaf, nil)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(ca.certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	// A bundle with an unrelated certificate first.
	bundle := newCA(t, "unrelated").certPEM + ca.certPEM

	ctx := context.Background()
	check := func(cfg Config) error {
		t.Helper()
		cfg.BaseURL, cfg.Token = srv.URL, testToken
		c, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c.CheckAuth(ctx)
	}

	err := check(Config{})
	e := asError(t, err)
	if e.Status != 0 {
		t.Errorf("Status = %d, want 0 for a TLS failure", e.Status)
	}
	assertContains(t, "Detail", described(e), "certificate", "TLS settings", "[check tls]")

	// A wrong CA does not help.
	if err := check(Config{CACert: newCA(t, "other").certPEM}); err == nil {
		t.Error("a CA that did not sign the server certificate was accepted")
	}

	for name, cfg := range map[string]Config{
		"inline ca_cert":        {CACert: ca.certPEM},
		"inline ca_cert bundle": {CACert: bundle},
		"cacert_file":           {CACertFile: caFile},
		"insecure":              {Insecure: true},
	} {
		if err := check(cfg); err != nil {
			t.Errorf("%s: CheckAuth: %v", name, err)
		}
	}
}

func TestTLSSelfSignedServerCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(userHandler(t))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS() // httptest's own self-signed certificate
	t.Cleanup(srv.Close)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	ctx := context.Background()

	c := newTestClient(t, srv.URL, 0)
	if err := c.CheckAuth(ctx); err == nil {
		t.Error("CheckAuth succeeded without ca_cert against a self-signed certificate")
	}
	c, err := New(Config{BaseURL: srv.URL, Token: testToken, CACert: certPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAuth(ctx); err != nil {
		t.Errorf("CheckAuth with ca_cert: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	serverCA := newCA(t, "server CA")
	serverLeaf := newLeaf(t, serverCA, "gitlab.test", x509.ExtKeyUsageServerAuth)
	clientCA := newCA(t, "client CA")
	clientLeaf := newLeaf(t, clientCA, "terraform", x509.ExtKeyUsageClientAuth)
	strangerCA := newCA(t, "stranger CA")
	stranger := newLeaf(t, strangerCA, "stranger", x509.ExtKeyUsageClientAuth)

	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "terraform" {
			t.Error("request without the expected client certificate")
		}
		writeJSON(w, http.StatusOK, `{"id":1,"username":"root"}`)
	})
	srv := newTLSServer(t, handler, serverLeaf, pool)

	dir := t.TempDir()
	certFile := filepath.Join(dir, "client.crt")
	keyFile := filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, []byte(clientLeaf.certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(clientLeaf.keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	check := func(cfg Config) error {
		t.Helper()
		cfg.BaseURL, cfg.Token, cfg.CACert = srv.URL, testToken, serverCA.certPEM
		c, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c.CheckAuth(ctx)
	}

	if err := check(Config{}); err == nil {
		t.Error("the server accepted a client without a certificate")
	}
	if err := check(Config{ClientCert: stranger.certPEM, ClientKey: stranger.keyPEM}); err == nil {
		t.Error("the server accepted a client certificate from an unknown CA")
	}
	for name, cfg := range map[string]Config{
		"inline":          {ClientCert: clientLeaf.certPEM, ClientKey: clientLeaf.keyPEM},
		"files":           {ClientCert: certFile, ClientKey: keyFile},
		"inline and file": {ClientCert: clientLeaf.certPEM, ClientKey: keyFile},
	} {
		if err := check(cfg); err != nil {
			t.Errorf("%s: CheckAuth: %v", name, err)
		}
	}
}
