package mockgitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFaultBeforeHandling(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Method: "GET", Pattern: "/api/v4/projects/*/cluster_agents", Status: 500, Count: 2})
	// Unauthenticated requests are answered 401 and do not consume the fault.
	expect(t, e.get("/projects/20/cluster_agents", ""), 401, `{"message":"401 Unauthorized"}`)
	// Other methods and paths are not affected.
	expectStatus(t, e.get("/projects/20", tokMaintainer), 200)
	expectStatus(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"a"}`), 201)
	for range 2 {
		expect(t, e.get("/projects/20/cluster_agents", tokMaintainer), 500, `{"message":"500 Internal Server Error"}`)
	}
	expectStatus(t, e.get("/projects/20/cluster_agents", tokMaintainer), 200)
	if n := e.srv.CountRequests("GET", "/api/v4/projects/20/cluster_agents"); n != 4 {
		t.Fatalf("logged %d GETs, want 4", n)
	}

	// A fault without AfterCommit skips the handler: nothing is created.
	e.srv.InjectFault(Fault{Method: "POST", Status: 502})
	expect(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"b"}`), 502, `{"message":"502 Bad Gateway"}`)
	if n := len(e.srv.Agents(20)); n != 1 {
		t.Fatalf("%d agents", n)
	}
	// Custom body and headers; ClearFaults.
	e.srv.InjectFault(Fault{Status: 503, Body: "down", Headers: map[string]string{"X-Custom": "1"}, Count: 5})
	r := e.get("/user", tokRoot)
	expect(t, r, 503, "down")
	if r.header.Get("X-Custom") != "1" || r.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("headers = %v", r.header)
	}
	e.srv.ClearFaults()
	expectStatus(t, e.get("/user", tokRoot), 200)
}

func TestFaultAfterCommit(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Method: "POST", Pattern: "/api/v4/projects/*/cluster_agents", Status: 502, AfterCommit: true})
	expect(t, e.post("/projects/root%2Ftest/cluster_agents", tokMaintainer, `{"name":"agent-1"}`), 502, `{"message":"502 Bad Gateway"}`)
	agents := e.srv.Agents(20)
	if len(agents) != 1 || agents[0].Name != "agent-1" {
		t.Fatalf("agents = %+v", agents)
	}
	// A client retry now sees the duplicate.
	expect(t, e.post("/projects/root%2Ftest/cluster_agents", tokMaintainer, `{"name":"agent-1"}`), 400,
		`{"message":"400 Bad request - [\"Name has already been taken\"]"}`)
	if n := e.srv.CountRequests("POST", "/api/v4/projects/*/cluster_agents"); n != 2 {
		t.Fatalf("CountRequests = %d", n)
	}
	if got := e.srv.Requests()[0].Status; got != 502 {
		t.Fatalf("logged status = %d", got)
	}
}

func TestFault429(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Status: 429})
	before := time.Now().Unix()
	r := e.get("/projects/20/cluster_agents", tokMaintainer)
	expect(t, r, 429, "Retry later\n")
	if ct := r.header.Get("Content-Type"); ct != "text/plain" {
		t.Fatalf("Content-Type = %q", ct)
	}
	for _, h := range []string{"RateLimit-Name", "RateLimit-Limit", "RateLimit-Observed", "RateLimit-Remaining", "RateLimit-ResetTime"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	reset, err := strconv.ParseInt(r.header.Get("RateLimit-Reset"), 10, 64)
	if err != nil || reset < before || reset > time.Now().Unix()+2 {
		t.Fatalf("RateLimit-Reset = %q (now %d)", r.header.Get("RateLimit-Reset"), before)
	}
	if _, err := http.ParseTime(r.header.Get("RateLimit-ResetTime")); err != nil {
		t.Fatalf("RateLimit-ResetTime: %v", err)
	}

	// The next response is normal, without RateLimit headers.
	r = e.get("/projects/20/cluster_agents", tokMaintainer)
	expectStatus(t, r, 200)
	for h := range r.header {
		if strings.HasPrefix(strings.ToLower(h), "ratelimit") || h == "Retry-After" {
			t.Fatalf("normal response has %s", h)
		}
	}

	// Explicit headers replace the defaults.
	e.srv.InjectFault(Fault{Status: 429, Headers: map[string]string{"RateLimit-Reset": "1700000000"}})
	r = e.get("/user", tokMaintainer)
	if r.status != 429 || r.header.Get("RateLimit-Reset") != "1700000000" || r.header.Get("Retry-After") != "" {
		t.Fatalf("got %d %v", r.status, r.header)
	}
}

// rawDo sends one request on a fresh connection (no keep-alive, so Go's transport does not retry a
// dropped idempotent request) and returns the transport's answer as is.
func (e *testEnv) rawDo(ctx context.Context, method, path, token, body string) (*http.Response, error) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.ts.URL+apiPrefix+path, rd)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("PRIVATE-TOKEN", token)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err == nil {
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestFaultDrop(t *testing.T) {
	for _, tc := range []struct {
		name        string
		fault       string // posted to /-/mock/faults
		wantCreated bool
	}{
		{"before handling", `{"method":"POST","pattern":"/api/v4/projects/*/cluster_agents","drop":true}`, false},
		{"after commit", `{"method":"POST","pattern":"/api/v4/projects/*/cluster_agents","drop":true,"after_commit":true}`, true},
		{"late", `{"method":"POST","drop":true,"delay_ms":50}`, false},
		{"late after commit", `{"method":"POST","drop":true,"delay_ms":50,"after_commit":true}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			expectStatus(t, e.post("/-/mock/faults", "", tc.fault), 201)
			resp, err := e.rawDo(context.Background(), http.MethodPost, "/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`)
			if err == nil {
				t.Fatalf("got an answer %d, want the connection closed without one", resp.StatusCode)
			}
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("error = %v, want EOF or connection reset", err)
			}
			if n := len(e.srv.Agents(20)); (n == 1) != tc.wantCreated || n > 1 {
				t.Fatalf("%d agents after the drop, want created = %v", n, tc.wantCreated)
			}
			if got := e.srv.Requests(); len(got) != 1 || got[0].Status != 0 {
				t.Fatalf("request log = %+v, want one entry with status 0", got)
			}
			// The fault is used up: the next request is answered.
			wantStatus := 201
			if tc.wantCreated {
				wantStatus = 400 // the name is taken by the dropped request
			}
			expectStatus(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`), wantStatus)
		})
	}
}

func TestFaultDelay(t *testing.T) {
	const delay = 600 * time.Millisecond
	for _, tc := range []struct {
		name          string
		fault         Fault
		wantStatus    int
		createdEarly  bool // the agent exists while the answer is still delayed
		wantCreated   bool
		wantBodyMatch string
	}{
		{"normal answer late", Fault{Method: "POST", DelayMS: int(delay / time.Millisecond)}, 201, false, true, `"name":"agent-1"`},
		{"status late", Fault{Method: "POST", DelayMS: int(delay / time.Millisecond), Status: 503}, 503, false, false, `{"message":"503 Service Unavailable"}`},
		{"after commit, normal answer late", Fault{Method: "POST", DelayMS: int(delay / time.Millisecond), AfterCommit: true}, 201, true, true, `"name":"agent-1"`},
		{"after commit, status late", Fault{Method: "POST", DelayMS: int(delay / time.Millisecond), AfterCommit: true, Status: 502}, 502, true, true, `{"message":"502 Bad Gateway"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.InjectFault(tc.fault)
			start := time.Now()
			done := make(chan result, 1)
			go func() { done <- e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`) }()
			if tc.createdEarly {
				deadline := time.Now().Add(delay / 2)
				for len(e.srv.Agents(20)) == 0 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if len(e.srv.Agents(20)) != 1 {
					t.Fatal("after commit: the agent is not created before the delayed answer")
				}
			} else {
				time.Sleep(delay / 3)
				if n := len(e.srv.Agents(20)); n != 0 {
					t.Fatalf("%d agents during the delay, want the request handled only after it", n)
				}
			}
			select {
			case r := <-done:
				t.Fatalf("answered %d after %v, before the delay", r.status, time.Since(start))
			default:
			}
			r := <-done
			if elapsed := time.Since(start); elapsed < delay {
				t.Fatalf("answered after %v, want at least %v", elapsed, delay)
			}
			if r.status != tc.wantStatus || !strings.Contains(r.body, tc.wantBodyMatch) {
				t.Fatalf("got %d %s, want %d with %s", r.status, r.body, tc.wantStatus, tc.wantBodyMatch)
			}
			if n := len(e.srv.Agents(20)); (n == 1) != tc.wantCreated {
				t.Fatalf("%d agents, want created = %v", n, tc.wantCreated)
			}
			if got := e.srv.Requests(); len(got) != 1 || got[0].Status != tc.wantStatus {
				t.Fatalf("request log = %+v", got)
			}
			// Used up: the next request is answered at once.
			start = time.Now()
			expectStatus(t, e.get("/user", tokMaintainer), 200)
			if elapsed := time.Since(start); elapsed >= delay {
				t.Fatalf("next request took %v", elapsed)
			}
		})
	}
}

func TestFaultDelayClientGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name        string
		afterCommit bool
	}{
		{"before handling: nothing changes", false},
		{"after commit: the change stays", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.InjectFault(Fault{Method: "POST", DelayMS: 60_000, AfterCommit: tc.afterCommit})
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if resp, err := e.rawDo(ctx, http.MethodPost, "/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`); err == nil {
				t.Fatalf("got %d, want the client to give up", resp.StatusCode)
			}
			// Close waits for every handler: it must not wait for the delay.
			start := time.Now()
			e.ts.Close()
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Fatalf("the handler kept waiting %v after the client gave up", elapsed)
			}
			if n := len(e.srv.Agents(20)); (n == 1) != tc.afterCommit {
				t.Fatalf("%d agents, want created = %v", n, tc.afterCommit)
			}
			wantStatus := 0
			if tc.afterCommit {
				wantStatus = 201
			}
			if got := e.srv.Requests(); len(got) != 1 || got[0].Status != wantStatus {
				t.Fatalf("request log = %+v, want one entry with status %d", got, wantStatus)
			}
		})
	}
}

func TestControlFaultValidation(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"drop":true}`, 201, `"drop":true`},
		{`{"drop":true,"after_commit":true,"count":2}`, 201, `"count":2`},
		{`{"delay_ms":100}`, 201, `"delay_ms":100`},
		{`{"delay_ms":100,"status":503}`, 201, `"status":503`},
		{`{"status":500}`, 201, `"drop":false`},
		{`{"drop":true,"status":500}`, 400, "leave out status"},
		{`{"drop":true,"body":"x"}`, 400, "leave out status"},
		{`{"delay_ms":-1}`, 400, "delay_ms must not be negative"},
		{`{"delay_ms":0}`, 400, "status must be an HTTP status code"},
		{`{"delay_ms":"soon"}`, 400, "invalid JSON body"},
		{`{"drop":"yes"}`, 400, "invalid JSON body"},
		{`{"status":0}`, 400, "unless drop, delay_ms or answer is set"},
		{`{"answer":"html"}`, 201, `"answer":"html"`},
		{`{"answer":"wrong_id","status":200}`, 201, `"answer":"wrong_id"`},
		{`{"answer":"teapot"}`, 400, "answer must be one of html, redirect, empty_object, empty_list, wrong_id"},
		{`{"answer":"html","body":"x"}`, 400, "leave out body and headers"},
		{`{"answer":"html","drop":true}`, 400, "leave out status, body, headers and answer"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			e := newEnv(t)
			r := e.post("/-/mock/faults", "", tc.body)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Fatalf("got %d %s, want %d with %s", r.status, r.body, tc.status, tc.want)
			}
		})
	}
}

// Answers that are not GitLab's: without after_commit nothing is handled; with it, the change happens and
// the answer is lost in the shape asked for.
func TestFaultAnswers(t *testing.T) {
	e := newEnv(t)

	e.srv.InjectFault(Fault{Method: "GET", Pattern: "/api/v4/user", Answer: AnswerHTML})
	r := e.get("/user", tokMaintainer)
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.HasPrefix(r.body, "<!DOCTYPE html>") {
		t.Fatalf("html: %d %q %.40s", r.status, r.header.Get("Content-Type"), r.body)
	}

	// A redirect to the sign-in page, where the mock serves GitLab's HTML page. Nothing is registered.
	e.srv.InjectFault(Fault{Method: "POST", Answer: AnswerRedirect})
	r = e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"redirected"}`)
	if r.status != 302 || r.header.Get("Location") != "/users/sign_in" {
		t.Fatalf("redirect: %d Location %q", r.status, r.header.Get("Location"))
	}
	if n := len(e.srv.Agents(20)); n != 0 {
		t.Fatalf("a redirect without after_commit registered %d agents", n)
	}
	page, err := http.Get(e.ts.URL + "/users/sign_in")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(page.Body)
	_ = page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(data), "Sign in") {
		t.Fatalf("sign-in page: %d %.40s", page.StatusCode, data)
	}

	// {} after commit: the agent exists, the answer keeps GitLab's status.
	e.srv.InjectFault(Fault{Method: "POST", Answer: AnswerEmptyObject, AfterCommit: true})
	expect(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"committed"}`), 201, `{}`)
	agents := e.srv.Agents(20)
	if len(agents) != 1 || agents[0].Name != "committed" {
		t.Fatalf("agents after an empty answer after commit: %+v", agents)
	}
	id := agents[0].ID

	// [] before handling: 200, and the DELETE does nothing.
	e.srv.InjectFault(Fault{Method: "DELETE", Answer: AnswerEmptyList})
	r = e.del("/projects/20/cluster_agents/"+strconv.FormatInt(id, 10), tokMaintainer)
	expect(t, r, 200, `[]`)
	if r.header.Get("Content-Type") != "application/json" || len(e.srv.Agents(20)) != 1 {
		t.Fatalf("empty list: Content-Type %q, %d agents", r.header.Get("Content-Type"), len(e.srv.Agents(20)))
	}

	// The answer about another object: every top-level ID raised, one object or a list.
	e.srv.InjectFault(Fault{Method: "GET", Answer: AnswerWrongID, Count: 2})
	r = e.get("/projects/20/cluster_agents/"+strconv.FormatInt(id, 10), tokMaintainer)
	expectStatus(t, r, 200)
	type agent struct {
		ID            int64 `json:"id"`
		ConfigProject struct {
			ID int64 `json:"id"`
		} `json:"config_project"`
	}
	var one agent
	if err := json.Unmarshal([]byte(r.body), &one); err != nil || one.ID != id+WrongIDOffset || one.ConfigProject.ID != 20 {
		t.Fatalf("wrong id: %s, want id %d and the project's own ID kept", r.body, id+WrongIDOffset)
	}
	r = e.get("/projects/20/cluster_agents", tokMaintainer)
	var list []agent
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list) != 1 || list[0].ID != id+WrongIDOffset {
		t.Fatalf("wrong ids in a list: %s, want id %d", r.body, id+WrongIDOffset)
	}
	// A wrong ID is always handled: the POST registers the agent.
	e.srv.InjectFault(Fault{Method: "POST", Answer: AnswerWrongID})
	r = e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"third"}`)
	expectStatus(t, r, 201)
	if n := len(e.srv.Agents(20)); n != 2 {
		t.Fatalf("%d agents after a wrong-ID create, want 2", n)
	}
	// Faults used up: GitLab's own answers again.
	expect(t, e.get("/projects/20/cluster_agents/"+strconv.FormatInt(id, 10)+"/tokens", tokMaintainer), 200, `[]`)
}

// Answer faults reach every route: the repository files, GET /metadata, the personal access tokens and
// GraphQL (outside /api/v4), and a wrong ID there is another file or another agent.
func TestFaultAnswersOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "my-agent")
	expectStatus(t, e.write(http.MethodPost, agentConfigSeg, tokMaintainer, `{"branch":"main","content":"{}\n","commit_message":"Add"}`), 201)

	e.srv.InjectFault(Fault{Method: "DELETE", Pattern: "/api/v4/projects/*/repository/files/*", Answer: AnswerHTML})
	if r := e.write(http.MethodDelete, agentConfigSeg, tokMaintainer, `{"branch":"main","commit_message":"Remove"}`); r.status != 200 || !strings.HasPrefix(r.body, "<!DOCTYPE html>") {
		t.Fatalf("html delete: %d %.40s", r.status, r.body)
	}
	if r := e.get(filesURL("20", agentConfigSeg)+"?ref=main", tokMaintainer); r.status != 200 {
		t.Fatalf("the file is gone after an HTML answer without after_commit: %d", r.status)
	}

	e.srv.InjectFault(Fault{Method: "GET", Pattern: "/api/v4/projects/*/repository/files/*", Answer: AnswerWrongID})
	f := decode[fileJSON](t, e.get(filesURL("20", agentConfigSeg)+"?ref=main", tokMaintainer))
	if f.FilePath != WrongFileDir+"/"+agentConfigPath {
		t.Fatalf("wrong id on a file: file_path %q", f.FilePath)
	}
	e.srv.InjectFault(Fault{Method: "PUT", Answer: AnswerWrongID})
	r := e.write(http.MethodPut, agentConfigSeg, tokMaintainer, `{"branch":"main","content":"a: 1\n","commit_message":"Update"}`)
	if w := decode[fileJSON](t, r); r.status != 200 || w.FilePath != WrongFileDir+"/"+agentConfigPath {
		t.Fatalf("wrong id on an update: %d %s", r.status, r.body)
	}

	e.srv.InjectFault(Fault{Method: "GET", Pattern: "/api/v4/metadata", Answer: AnswerEmptyObject})
	expect(t, e.get("/metadata", tokMaintainer), 200, `{}`)

	e.srv.InjectFault(Fault{Method: "POST", Pattern: "/api/v4/user/personal_access_tokens", Answer: AnswerEmptyObject, AfterCommit: true})
	expect(t, e.post("/user/personal_access_tokens", tokMaintainer, `{"name":"k","scopes":["k8s_proxy"]}`), 201, `{}`)

	vars := map[string]any{"p": "root/test", "n": "my-agent"}
	e.srv.InjectFault(Fault{Method: "POST", Pattern: "/api/graphql", Answer: AnswerHTML})
	if r := e.graphql(tokMaintainer, connectionsQuery, vars); r.status != 200 || !strings.HasPrefix(r.body, "<!DOCTYPE html>") {
		t.Fatalf("html on GraphQL: %d %.40s", r.status, r.body)
	}
	e.srv.InjectFault(Fault{Method: "POST", Pattern: "/api/graphql", Answer: AnswerWrongID})
	r = e.graphql(tokMaintainer, connectionsQuery, vars)
	if want := fmt.Sprintf(`"id":"gid://gitlab/Clusters::Agent/%d"`, a.ID+WrongIDOffset); r.status != 200 || !strings.Contains(r.body, want) {
		t.Fatalf("wrong id on GraphQL: %d %s, want %s", r.status, r.body, want)
	}
}
