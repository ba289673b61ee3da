package mockgitlab

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tokens of the default seed.
const (
	tokRoot       = "glpat-mock-root-000000000000"
	tokMaintainer = "glpat-mock-maintainer-0000000"
	tokDeveloper  = "glpat-mock-developer-0000000"
	tokReporter   = "glpat-mock-reporter-00000000"
	tokOutsider   = "glpat-mock-outsider-00000000"
)

// testEnv is a mock server behind httptest.
type testEnv struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
}

// newEnv starts a server with the default seed.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return newEnvWithSeed(t, DefaultSeed())
}

// newEnvWithSeed starts a server with the given seed.
func newEnvWithSeed(t *testing.T, seed Seed) *testEnv {
	t.Helper()
	srv, err := New(seed)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testEnv{t: t, srv: srv, ts: ts}
}

// result is a received response.
type result struct {
	status int
	header http.Header
	body   string
}

// call describes one request; path is relative to /api/v4 unless it starts with "/-/" or "/api/".
type call struct {
	method      string
	path        string
	token       string
	body        string
	contentType string
	header      map[string]string
}

// send performs a request without following redirects.
func (e *testEnv) send(c call) result {
	e.t.Helper()
	u := e.ts.URL
	if strings.HasPrefix(c.path, "/-/") || strings.HasPrefix(c.path, "/api/") || c.path == "/" {
		u += c.path
	} else {
		u += apiPrefix + c.path
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, u, body)
	if err != nil {
		e.t.Fatalf("NewRequest %s %s: %v", c.method, u, err)
	}
	if c.body != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("PRIVATE-TOKEN", c.token)
	}
	for k, v := range c.header {
		req.Header[k] = []string{v} // as given, to exercise case-insensitive header names
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", c.method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading body: %v", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (e *testEnv) get(path, token string) result {
	e.t.Helper()
	return e.send(call{method: http.MethodGet, path: path, token: token})
}

func (e *testEnv) post(path, token, body string) result {
	e.t.Helper()
	return e.send(call{method: http.MethodPost, path: path, token: token, body: body})
}

func (e *testEnv) del(path, token string) result {
	e.t.Helper()
	return e.send(call{method: http.MethodDelete, path: path, token: token})
}

// expect checks status and exact body.
func expect(t *testing.T, r result, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

// expectStatus checks the status only.
func expectStatus(t *testing.T, r result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %d %s, want %d", r.status, r.body, status)
	}
}

// decode unmarshals a JSON body.
func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return v
}

// keysOf returns the sorted keys of a JSON object body.
func keysOf(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// expectKeys checks the exact key set of a JSON object.
func expectKeys(t *testing.T, body string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keysOf(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %v, want %v (body %s)", got, want, body)
	}
}

// mustAgent creates an agent out of band.
func (e *testEnv) mustAgent(projectID int64, name string) AgentInfo {
	e.t.Helper()
	a, err := e.srv.CreateAgent(projectID, name, 2)
	if err != nil {
		e.t.Fatalf("CreateAgent(%d, %q): %v", projectID, name, err)
	}
	return a
}

// fixedClock returns a clock frozen at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	cases := []struct{ method, path string }{
		{http.MethodGet, "/nothing"},
		{http.MethodGet, "/projects"},
		{http.MethodDelete, "/projects/20/cluster_agents"},                    // collection has no DELETE
		{http.MethodPut, fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID)}, // no PUT
		{http.MethodGet, "/projects/root/test/cluster_agents"},                // unencoded slash
		{http.MethodGet, fmt.Sprintf("/projects/20/cluster_agents/%d/other", a.ID)},
		{http.MethodPost, fmt.Sprintf("/projects/20/cluster_agents/%d/tokens/1", a.ID)},
		{http.MethodGet, "/projects/20/cluster_agents/"},
		{http.MethodGet, "/projects//cluster_agents"},
		{http.MethodPost, "/user"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			// Unknown routes answer 404 even without authentication, like GitLab's catch-all route.
			r := e.send(call{method: c.method, path: c.path})
			expect(t, r, 404, `{"error":"404 Not Found"}`)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
		})
	}
	// Outside /api/v4 too, but such requests are not logged.
	e.srv.ResetRequests()
	expect(t, e.get("/", tokRoot), 404, `{"error":"404 Not Found"}`)
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("requests outside /api/v4 logged: %d", n)
	}
}

func TestRequestLogAndCount(t *testing.T) {
	e := newEnv(t)
	e.post("/projects/root%2Ftest/cluster_agents", tokMaintainer, `{"name":"one"}`)
	e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"two"}`)
	e.get("/projects/20/cluster_agents?per_page=5", tokMaintainer)
	e.get("/projects/20/cluster_agents", "")
	e.get("/-/mock/requests", "") // control endpoints are not logged

	got := e.srv.Requests()
	for i := range got {
		if got[i].At.IsZero() || i > 0 && got[i].At.Before(got[i-1].At) {
			t.Errorf("request %d received at %v, after %v", i, got[i].At, got[max(i-1, 0)].At)
		}
		got[i].At = time.Time{}
	}
	want := []LoggedRequest{
		{Method: "POST", Path: "/api/v4/projects/root%2Ftest/cluster_agents", Status: 201},
		{Method: "POST", Path: "/api/v4/projects/20/cluster_agents", Status: 201},
		{Method: "GET", Path: "/api/v4/projects/20/cluster_agents", Query: "per_page=5", Status: 200},
		{Method: "GET", Path: "/api/v4/projects/20/cluster_agents", Status: 401},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Requests() = %+v\nwant %+v", got, want)
	}
	if n := e.srv.CountRequests("POST", "/api/v4/projects/*/cluster_agents"); n != 2 {
		t.Fatalf("CountRequests POST = %d, want 2", n)
	}
	if n := e.srv.CountRequests("GET", "/api/v4/projects/*/cluster_agents"); n != 2 {
		t.Fatalf("CountRequests GET = %d, want 2", n)
	}
	if n := e.srv.CountRequests("DELETE", "/api/v4/projects/*/cluster_agents"); n != 0 {
		t.Fatalf("CountRequests DELETE = %d, want 0", n)
	}
	if n := e.srv.CountRequests("POST", "/api/v4/projects/root%2Ftest/*"); n != 1 {
		t.Fatalf("CountRequests escaped = %d, want 1", n)
	}
	e.srv.ResetRequests()
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("after reset: %d requests", n)
	}
}

func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	const n = 40
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			r := e.post("/projects/20/cluster_agents", tokMaintainer, fmt.Sprintf(`{"name":"agent-%02d"}`, i))
			statuses[i] = r.status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 201 {
			t.Fatalf("request %d: status %d", i, s)
		}
	}
	agents := e.srv.Agents(20)
	if len(agents) != n {
		t.Fatalf("%d agents, want %d", len(agents), n)
	}
	ids := map[int64]bool{}
	for _, a := range agents {
		ids[a.ID] = true
	}
	for id := int64(1); id <= n; id++ {
		if !ids[id] {
			t.Fatalf("agent id %d missing; ids are serial from 1", id)
		}
	}
}

func TestParamsFromFormAndQuery(t *testing.T) {
	e := newEnv(t)
	r := e.send(call{method: http.MethodPost, path: "/projects/20/cluster_agents", token: tokMaintainer,
		body: "name=from-form", contentType: "application/x-www-form-urlencoded"})
	expectStatus(t, r, 201)
	r = e.send(call{method: http.MethodPost, path: "/projects/20/cluster_agents?name=from-query", token: tokMaintainer})
	expectStatus(t, r, 201)
	names := []string{}
	for _, a := range e.srv.Agents(20) {
		names = append(names, a.Name)
	}
	if !reflect.DeepEqual(names, []string{"from-form", "from-query"}) {
		t.Fatalf("names = %v", names)
	}
	// Malformed JSON is a Grape parameter error.
	r = e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":`)
	expect(t, r, 400, `{"error":"message body does not match declared format"}`)
	// A non-string name is invalid.
	r = e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":{"x":1}}`)
	expect(t, r, 400, `{"error":"name is invalid"}`)
}
