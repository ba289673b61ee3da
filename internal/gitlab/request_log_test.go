package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"
)

const (
	secretAgentToken = "glagent-SECRETSECRETSECRETSECRETSECRETSECRETSECRETSE"
	secretKeyBody    = "MC4CAQAwBQYDK2VwBCIEIKEYMATERIALSECRETKEYMATERIAL"
	secretClientKey  = "-----BEGIN PRIVATE KEY-----\n" + secretKeyBody + "\n-----END PRIVATE KEY-----\n"
	publicKeyValue   = "PUBLICKEYVALUEzK3bU2Tq8x0m3p0Q9l4f6V1mX2sY7cA5dE="
)

func logEntries(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	entries, err := tflogtest.MultilineJSONDecode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("decoding the log: %v\n%s", err, buf.String())
	}
	return entries
}

func TestRequestLogNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tokenBody := mustJSON(map[string]any{
		"id": 7, "agent_id": 42, "name": "t", "status": "active",
		"token": secretAgentToken,
	})
	agentBody := mustJSON(map[string]any{
		"id": 42, "name": "agent-1",
		"url_configurations": []any{map[string]any{
			"id": 1, "url": "grpcs://agent.example.com",
			"client_key": secretClientKey, "public_key": publicKeyValue, "client_cert": nil,
		}},
	})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("request without the token")
		}
		switch r.URL.EscapedPath() {
		case "/api/v4/projects/root%2Ftest/cluster_agents/42/tokens":
			writeJSON(w, http.StatusCreated, tokenBody)
		case "/api/v4/projects/root%2Ftest/cluster_agents/42":
			writeJSON(w, http.StatusOK, agentBody)
		case "/api/v4/projects/root%2Ftest/cluster_agents/43":
			// GitLab (or a proxy) echoing the API token.
			writeJSON(w, http.StatusUnauthorized, `{"message":"401 Unauthorized","detail":"token `+testToken+` is not valid"}`)
		case "/api/v4/user":
			writeJSON(w, http.StatusOK, `{"id":1,"username":"root"}`)
		case "/api/v4/plain":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = fmt.Fprintf(w, "token=%s", secretAgentToken)
		default:
			writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
		}
	}))
	c := newTestClient(t, srv.URL, 0)
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)

	// 1. A response carrying an agent token.
	var created map[string]any
	if _, err := c.send(ctx, http.MethodPost, agentPath("root/test", 42)+"/tokens", map[string]string{"name": "t"}, &created); err != nil {
		t.Fatalf("create token: %v", err)
	}
	if created["token"] != secretAgentToken {
		t.Errorf("the caller must still get the token, got %v", created["token"])
	}
	// 2. A response carrying a private key, nested in an array.
	a, err := c.GetAgent(ctx, "root/test", 42)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if a.Name != "agent-1" {
		t.Errorf("GetAgent decoded %+v", a.Agent)
	}
	// 3. An error response echoing the API token.
	if _, err := c.GetAgent(ctx, "root/test", 43); StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("GetAgent 43: %v, want 401", err)
	} else {
		assertNotContains(t, "error", err.Error(), testToken)
	}
	// 4. A secret in the query string.
	query := struct {
		PrivateToken string `url:"private_token"`
		Page         int    `url:"page"`
	}{testToken, 2}
	if _, err := c.send(ctx, http.MethodGet, "user", &query, nil); err != nil {
		t.Fatalf("GET user: %v", err)
	}
	// 5. A non-JSON body is not logged.
	if _, err := c.send(ctx, http.MethodGet, "plain", nil, &bytes.Buffer{}); err != nil {
		t.Fatalf("GET plain: %v", err)
	}

	log := buf.String()
	if log == "" {
		t.Fatal("nothing was logged")
	}
	assertNotContains(t, "log", log, testToken, secretAgentToken, secretKeyBody, "BEGIN PRIVATE KEY")
	assertContains(t, "log", log, redacted, publicKeyValue, "grpcs://agent.example.com")

	entries := logEntries(t, &buf)
	var requests, bodies int
	wantPaths := []string{
		"/api/v4/projects/root%2Ftest/cluster_agents/42/tokens",
		"/api/v4/projects/root%2Ftest/cluster_agents/42",
		"/api/v4/projects/root%2Ftest/cluster_agents/43",
		"/api/v4/user",
		"/api/v4/plain",
	}
	wantStatus := []float64{201, 200, 401, 200, 200}
	wantMethod := []string{"POST", "GET", "GET", "GET", "GET"}
	for _, e := range entries {
		switch e["@message"] {
		case "GitLab API request":
			if requests < len(wantPaths) {
				if e["http_method"] != wantMethod[requests] {
					t.Errorf("request %d: http_method = %v, want %s", requests+1, e["http_method"], wantMethod[requests])
				}
				if e["http_path"] != wantPaths[requests] {
					t.Errorf("request %d: http_path = %v, want %s", requests+1, e["http_path"], wantPaths[requests])
				}
				if e["http_status"] != wantStatus[requests] {
					t.Errorf("request %d: http_status = %v, want %v", requests+1, e["http_status"], wantStatus[requests])
				}
				if d, ok := e["duration_ms"].(float64); !ok || d < 0 {
					t.Errorf("request %d: duration_ms = %v", requests+1, e["duration_ms"])
				}
				if e["@level"] != "debug" {
					t.Errorf("request %d: level %v, want debug", requests+1, e["@level"])
				}
			}
			requests++
		case "GitLab API response body":
			bodies++
			if e["@level"] != "trace" {
				t.Errorf("body logged at %v, want trace", e["@level"])
			}
			if _, ok := e["http_path"]; !ok {
				t.Errorf("body entry without http_path: %v", e)
			}
		}
	}
	if requests != len(wantPaths) {
		t.Errorf("%d request entries, want %d:\n%s", requests, len(wantPaths), log)
	}
	// Every JSON answer is logged, the plain-text one is not.
	if bodies != 4 {
		t.Errorf("%d body entries, want 4:\n%s", bodies, log)
	}
	// The secret query parameter is logged redacted, the others as they are.
	var sawQuery bool
	for _, e := range entries {
		if q, ok := e["http_query"].(string); ok {
			sawQuery = true
			assertContains(t, "http_query", q, "page=2", "private_token=%5BREDACTED%5D")
		}
	}
	if !sawQuery {
		t.Error("no http_query field logged")
	}
	// Headers are never logged.
	assertNotContains(t, "log", strings.ToLower(log), "private-token")
}

func TestRequestLogFailedRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	base := srv.URL
	srv.Close()
	c := newTestClient(t, base, 0)
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	if _, err := c.GetAgent(ctx, "root/test", 42); err == nil {
		t.Fatal("GetAgent succeeded against a closed server")
	}
	var found bool
	for _, e := range logEntries(t, &buf) {
		if e["@message"] == "GitLab API request failed" {
			found = true
			if e["http_method"] != "GET" || e["http_path"] != "/api/v4/projects/root%2Ftest/cluster_agents/42" {
				t.Errorf("entry = %v", e)
			}
			if _, ok := e["duration_ms"]; !ok {
				t.Errorf("no duration_ms in %v", e)
			}
			if s, _ := e["error"].(string); s == "" {
				t.Errorf("no error in %v", e)
			}
		}
	}
	if !found {
		t.Errorf("no failed-request entry:\n%s", buf.String())
	}
	assertNotContains(t, "log", buf.String(), testToken)
}

func TestRequestLogLargeBodyStillDecoded(t *testing.T) {
	t.Parallel()
	// One page of 100 agents with long names is larger than maxLoggedBody:
	// it is not logged, but the caller must still read all of it.
	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf(`{"id":%d,"name":"agent-%03d-%s","token":"%s"}`, i+1, i, strings.Repeat("x", 200), secretAgentToken))
	}
	body := "[" + strings.Join(items, ",") + "]"
	if len(body) <= maxLoggedBody {
		t.Fatalf("test body is only %d bytes", len(body))
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, body)
	}))
	c := newTestClient(t, srv.URL, 0)
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	agents, err := c.ListAgents(ctx, "root/test")
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if len(agents) != 100 || agents[99].ID != 100 {
		t.Fatalf("decoded %d agents", len(agents))
	}
	assertNotContains(t, "log", buf.String(), secretAgentToken, "GitLab API response body")
	assertContains(t, "log", buf.String(), "GitLab API request")
}

func TestRequestLogWithoutLogger(t *testing.T) {
	t.Parallel()
	// Without a logger in the context nothing breaks.
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, agentJSON)
	}))
	if _, err := newTestClient(t, srv.URL, 0).GetAgent(context.Background(), "root/test", 42); err != nil {
		t.Fatal(err)
	}
}

// countingBody is a response body that counts what is read from it.
type countingBody struct {
	r    *strings.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// TestRequestLogDoesWhatTheLevelNeeds: with the provider's log above DEBUG
// (as tflog tells it for the request), the interceptor does nothing at all;
// at DEBUG it logs the request but leaves the body to the caller, unread;
// only at TRACE does it read and log the body.
func TestRequestLogDoesWhatTheLevelNeeds(t *testing.T) {
	// Not parallel: the provider logger is made while os.Stderr, where it
	// writes (it and those tflog derives from it for masking), is a file of
	// the test's.
	for _, tc := range []struct {
		level          hclog.Level
		request, body  bool
		wantBodyReadBy int // bytes read by the interceptor
	}{
		{level: hclog.NoLevel}, // no provider logger at all
		{level: hclog.Off},
		{level: hclog.Info},
		{level: hclog.Debug, request: true},
		{level: hclog.Trace, request: true, body: true, wantBodyReadBy: len(agentJSON)},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			body := &countingBody{r: strings.NewReader(agentJSON)}
			next := roundTripperFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}, nil
			})
			logFile := filepath.Join(t.TempDir(), "log")
			ctx := context.Background()
			if tc.level != hclog.NoLevel {
				f, err := os.Create(logFile)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				stderr := os.Stderr
				os.Stderr = f
				ctx = tfsdklog.NewRootProviderLogger(ctx, tfsdklog.WithLevel(tc.level))
				os.Stderr = stderr
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://gitlab.example.com/api/v4/projects/1/cluster_agents/42", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := logRequests(testToken)(next).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if body.read != tc.wantBodyReadBy {
				t.Errorf("the interceptor read %d bytes of the body, want %d", body.read, tc.wantBodyReadBy)
			}
			if all, err := io.ReadAll(resp.Body); err != nil || string(all) != agentJSON {
				t.Errorf("the caller reads %q, %v; want the whole body", all, err)
			}
			written, _ := os.ReadFile(logFile)
			log := string(written)
			if got := strings.Contains(log, `"GitLab API request"`); got != tc.request {
				t.Errorf("request logged: %v, want %v\n%s", got, tc.request, log)
			}
			if got := strings.Contains(log, "GitLab API response body"); got != tc.body {
				t.Errorf("body logged: %v, want %v\n%s", got, tc.body, log)
			}
		})
	}
}

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"flat token", `{"id":1,"token":"glagent-abc"}`, `{"id":1,"token":"[REDACTED]"}`},
		{
			"nested object and array",
			`{"agent":{"tokens":[{"id":1,"token":"s1"},{"id":2,"token":"s2"}]},"url_configurations":[{"client_key":"k","client_cert":"c","ca_cert":"ca","public_key":"pub"}]}`,
			`{"agent":{"tokens":[{"id":1,"token":"[REDACTED]"},{"id":2,"token":"[REDACTED]"}]},"url_configurations":[{"ca_cert":"ca","client_cert":"c","client_key":"[REDACTED]","public_key":"pub"}]}`,
		},
		{"top-level array", `[{"password":"p"},{"name":"n"}]`, `[{"password":"[REDACTED]"},{"name":"n"}]`},
		{"null secret stays null", `{"token":null,"client_key":null}`, `{"client_key":null,"token":null}`},
		{"non-string secret", `{"secret":{"a":1},"private_token":12345,"refresh_token":["x"]}`, `{"private_token":"[REDACTED]","refresh_token":"[REDACTED]","secret":"[REDACTED]"}`},
		{"suffixes and case", `{"Token":"a","runner_token":"b","webhook_secret":"c","ssh_key":"d","ACCESS_TOKEN":"e","client_key_wo":"f"}`, `{"ACCESS_TOKEN":"[REDACTED]","Token":"[REDACTED]","client_key_wo":"[REDACTED]","runner_token":"[REDACTED]","ssh_key":"[REDACTED]","webhook_secret":"[REDACTED]"}`},
		{"public_key kept", `{"public_key":"AAAA"}`, `{"public_key":"AAAA"}`},
		{"near misses kept", `{"tokens":[],"token_expires_at":"2024-01-01","key":"k","name":"token"}`, `{"key":"k","name":"token","token_expires_at":"2024-01-01","tokens":[]}`},
		{"scalar", `"just a string"`, `"just a string"`},
		{"empty object", `{}`, `{}`},
	}
	for _, tc := range cases {
		if got := RedactJSON([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: RedactJSON(%s)\n got  %s\n want %s", tc.name, tc.in, got, tc.want)
		}
	}

	// Data that is not JSON is never returned.
	for _, in := range []string{
		"token=" + secretAgentToken,
		`{"token":"` + secretAgentToken + `"`, // truncated JSON
		"Retry later\n",
		"",
	} {
		got := RedactJSON([]byte(in))
		if in != "" && strings.Contains(got, in) {
			t.Errorf("RedactJSON(%q) = %q: non-JSON data returned", in, got)
		}
		assertNotContains(t, "RedactJSON", got, secretAgentToken)
		if !strings.Contains(got, "not logged") {
			t.Errorf("RedactJSON(%q) = %q, want a placeholder", in, got)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	secret := []string{
		"token", "Token", "TOKEN", "client_key", "client_key_wo", "private_key", "private_token",
		"access_token", "refresh_token", "password", "secret", "runner_token", "job_token",
		"webhook_secret", "client_secret", "signing_key", "ssh_key",
	}
	public := []string{
		"public_key", "Public_Key", "id", "name", "tokens", "token_id", "token_expires_at", "key",
		"client_cert", "ca_cert", "url", "description", "status", "keys", "passwords_count",
	}
	for _, k := range secret {
		if !IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = false, want true", k)
		}
	}
	for _, k := range public {
		if IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = true, want false", k)
		}
	}
}
