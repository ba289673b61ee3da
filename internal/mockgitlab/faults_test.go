package mockgitlab

import (
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
