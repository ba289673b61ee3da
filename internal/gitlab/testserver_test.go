package gitlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// testToken is the API token of every test client. It is long and unusual so
// that a test can search logs and error messages for it.
const testToken = "glpat-TESTTOKEN0123456789abcdef"

// newTestClient builds a client for srv with testToken and the given retries.
func newTestClient(t *testing.T, baseURL string, retries int) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: baseURL, Token: testToken, Retries: retries, UserAgent: "terraform-provider-gitlabagent/test"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// newServer starts an httptest server and closes it at the end of the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// writeJSON answers with a JSON body and status.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// requestLog records the requests a handler received.
type requestLog struct {
	mu   sync.Mutex
	reqs []recordedRequest
}

type recordedRequest struct {
	Method      string
	EscapedPath string
	Query       string
	Header      http.Header
	Body        string
	At          time.Time
}

func (l *requestLog) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rr := recordedRequest{
		Method:      r.Method,
		EscapedPath: r.URL.EscapedPath(),
		Query:       r.URL.RawQuery,
		Header:      r.Header.Clone(),
		Body:        string(body),
		At:          time.Now(),
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, rr)
	l.mu.Unlock()
}

func (l *requestLog) all() []recordedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]recordedRequest(nil), l.reqs...)
}

func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// asError returns err as *Error or fails the test.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("expected *gitlab.Error, got %T: %v", err, err)
	}
	return e
}

func assertContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func assertNotContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			t.Errorf("%s contains %q but must not:\n%s", what, sub, s)
		}
	}
}

// testCert is a certificate with its key, in PEM and parsed form.
type testCert struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM string
	keyPEM  string
}

func (c testCert) tlsCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair([]byte(c.certPEM), []byte(c.keyPEM))
	if err != nil {
		t.Fatalf("X509KeyPair: %v", err)
	}
	return pair
}

// newCA generates a self-signed certificate authority.
func newCA(t *testing.T, name string) testCert {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return issue(t, tmpl, nil)
}

// newLeaf generates a server (or client) certificate signed by ca.
func newLeaf(t *testing.T, ca testCert, name string, usage x509.ExtKeyUsage) testCert {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	return issue(t, tmpl, &ca)
}

func issue(t *testing.T, tmpl *x509.Certificate, parent *testCert) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		cert:    cert,
		key:     key,
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
}

// newTLSServer starts an HTTPS server presenting serverCert. clientCAs, when
// given, makes the server require and verify a client certificate.
func newTLSServer(t *testing.T, h http.Handler, serverCert testCert, clientCAs *x509.CertPool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert.tlsCertificate(t)}}
	if clientCAs != nil {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = clientCAs
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// userHandler answers GET /api/v4/user like GitLab.
func userHandler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.EscapedPath() != "/api/v4/user" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.EscapedPath())
			writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"id":1,"username":"root"}`)
	})
}

// The default seed of the mock GitLab, as the tests against it use it.
const (
	testMaintainerToken = "glpat-mock-maintainer-0000000"
	testProject         = "root/test"
	testProjectID       = 20
	testUserID          = 2
)

// mockWithAgent starts a mock GitLab with one agent, registered by the
// maintainer, and returns the mock, a client with apiToken and the agent's ID.
func mockWithAgent(t *testing.T, apiToken, agentName string) (*mockgitlab.Server, *Client, int64) {
	t.Helper()
	mock, err := mockgitlab.New(mockgitlab.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	client, err := New(Config{BaseURL: srv.URL, Token: apiToken, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := mock.CreateAgent(testProjectID, agentName, testUserID)
	if err != nil {
		t.Fatal(err)
	}
	return mock, client, agent.ID
}

// described is an error's detail with its facts, as assertions read them:
// "[kind …]" and "[check …]" for each setting it points at.
func described(e *Error) string {
	s := e.Detail + " [kind " + e.Kind.String() + "]"
	for _, c := range e.Check {
		s += " [check " + c.String() + "]"
	}
	return s
}
