package mockgitlab

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// setRateClock replaces the real-time clock of the rate limiter.
func (e *testEnv) setRateClock(now func() time.Time) {
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	e.srv.rate.now = now
}

// settableClock is a clock tests move by hand.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// expectThrottled checks a 429 answer of the rate limit and its headers.
func expectThrottled(t *testing.T, r result, limit, observed, reset, retryAfter int64) {
	t.Helper()
	expect(t, r, 429, "Retry later\n")
	want := map[string]string{
		"Content-Type":        "text/plain",
		"RateLimit-Name":      "throttle_authenticated_api",
		"RateLimit-Limit":     strconv.FormatInt(limit, 10),
		"RateLimit-Observed":  strconv.FormatInt(observed, 10),
		"RateLimit-Remaining": "0",
		"RateLimit-Reset":     strconv.FormatInt(reset, 10),
		"RateLimit-ResetTime": time.Unix(reset, 0).UTC().Format(http.TimeFormat),
		"Retry-After":         strconv.FormatInt(retryAfter, 10),
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// expectNoRateHeaders checks that an answer carries no rate-limit headers.
func expectNoRateHeaders(t *testing.T, r result) {
	t.Helper()
	for h := range r.header {
		if strings.HasPrefix(strings.ToLower(h), "ratelimit") || h == "Retry-After" {
			t.Fatalf("answer %d has %s", r.status, h)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	clock := &settableClock{t: time.Unix(1_700_000_005, 400e6)} // window [1700000000, 1700000010) of 10 s
	e.setRateClock(clock.now)
	// The server's own clock plays no part.
	e.srv.SetNow(fixedClock(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)))
	r := e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"rate_limit":{"requests":3,"per_seconds":10}}`})
	expect(t, r, 200, `{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"ultimate","rate_limit":{"requests":3,"per_seconds":10},"rate_limit_headers_always":false,"receptive_agents":true}`)

	for i := range 3 {
		r := e.get("/projects/20/cluster_agents", tokMaintainer)
		expectStatus(t, r, 200)
		expectNoRateHeaders(t, r)
		// Neither control requests nor unauthenticated ones count.
		expectStatus(t, e.get("/-/mock/requests", ""), 200)
		expectStatus(t, e.get("/user", ""), 401)
		expectStatus(t, e.get("/user", "glpat-unknown-"+strconv.Itoa(i)), 401)
	}
	// 18 = 3 per 10 s normalised to a minute; Retry-After runs to the end of the window.
	expectThrottled(t, e.get("/projects/20/cluster_agents", tokMaintainer), 18, 4, 1_700_000_010, 5)
	// Throttled requests count too, change nothing and leave faults in place.
	e.srv.InjectFault(Fault{Method: "POST", Status: 502})
	expectThrottled(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`), 18, 5, 1_700_000_010, 5)
	if n := len(e.srv.Agents(20)); n != 0 {
		t.Fatalf("a throttled POST created %d agents", n)
	}
	// Unknown routes and the private_token parameter count as well.
	expectThrottled(t, e.get("/nothing?private_token="+tokMaintainer, ""), 18, 6, 1_700_000_010, 5)
	if n := e.srv.CountRequests("", "/api/v4/*"); n == 0 {
		t.Fatal("nothing logged")
	}
	var statuses []int
	for _, lr := range e.srv.Requests() {
		if lr.Status == 429 {
			statuses = append(statuses, lr.Status)
		}
	}
	if len(statuses) != 3 {
		t.Fatalf("logged %d throttled requests, want 3", len(statuses))
	}
	// Each user has a window of its own.
	expectStatus(t, e.get("/user", tokDeveloper), 200)

	// Half a second before the window ends Retry-After is still at least 1.
	clock.set(time.Unix(1_700_000_009, 500e6))
	expectThrottled(t, e.get("/user", tokMaintainer), 18, 7, 1_700_000_010, 1)

	// The next window starts afresh; the fault is still there.
	clock.set(time.Unix(1_700_000_010, 0))
	expect(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`), 502, `{"message":"502 Bad Gateway"}`)
	expectStatus(t, e.post("/projects/20/cluster_agents", tokMaintainer, `{"name":"agent-1"}`), 201)
	expectStatus(t, e.get("/user", tokMaintainer), 200)
	expectThrottled(t, e.get("/user", tokMaintainer), 18, 4, 1_700_000_020, 10)

	// null turns the limit off.
	r = e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"rate_limit":null}`})
	expect(t, r, 200, `{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"ultimate","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":true}`)
	for range 5 {
		r := e.get("/user", tokMaintainer)
		expectStatus(t, r, 200)
		expectNoRateHeaders(t, r)
	}
}

func TestRateLimitGoMethods(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requests  int
		per       time.Duration
		wantLimit int64 // RateLimit-Limit of the first throttled answer; 0: never throttled
		wantReset int64
	}{
		{"per minute", 2, time.Minute, 2, 1_700_000_040},
		{"rounded up to a whole minute's quota", 7, 9 * time.Second, 47, 1_700_000_001},
		{"period rounded up to whole seconds", 1, 1500 * time.Millisecond, 30, 1_700_000_000},
		{"zero requests: off", 0, time.Minute, 0, 0},
		{"zero period: off", 5, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.setRateClock(func() time.Time { return time.Unix(1_699_999_999, 0) })
			e.srv.SetRateLimit(tc.requests, tc.per)
			for i := 1; i <= 10; i++ {
				r := e.get("/user", tokMaintainer)
				if r.status == 200 {
					continue
				}
				if tc.wantLimit == 0 || i != tc.requests+1 {
					t.Fatalf("request %d: got %d, want 200", i, r.status)
				}
				expectThrottled(t, r, tc.wantLimit, int64(i), tc.wantReset, tc.wantReset-1_699_999_999)
				return
			}
			if tc.wantLimit != 0 {
				t.Fatal("never throttled")
			}
		})
	}
}

func TestRateLimitHeadersAlways(t *testing.T) {
	e := newEnv(t)
	e.setRateClock(func() time.Time { return time.Unix(1_700_000_030, 0) })
	r := e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"rate_limit":{"requests":2,"per_seconds":60},"rate_limit_headers_always":true}`})
	expect(t, r, 200, `{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"ultimate","rate_limit":{"requests":2,"per_seconds":60},"rate_limit_headers_always":true,"receptive_agents":true}`)
	for i, wantRemaining := range []string{"1", "0"} {
		r := e.get("/projects/20", tokMaintainer)
		expectStatus(t, r, 200)
		want := map[string]string{
			"RateLimit-Limit": "2", "RateLimit-Observed": strconv.Itoa(i + 1), "RateLimit-Remaining": wantRemaining,
			"RateLimit-Reset": "1700000040", "RateLimit-Name": "throttle_authenticated_api", "Retry-After": "",
			"RateLimit-ResetTime": "", "Content-Type": "application/json",
		}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("answer %d: %s = %q, want %q", i+1, k, got, v)
			}
		}
	}
	expectThrottled(t, e.get("/projects/20", tokMaintainer), 2, 3, 1_700_000_040, 10)
	// Off again: no headers on normal answers even with the limit on.
	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"rate_limit_headers_always":false}`}), 200)
	e.setRateClock(func() time.Time { return time.Unix(1_700_000_040, 0) })
	r = e.get("/projects/20", tokMaintainer)
	expectStatus(t, r, 200)
	expectNoRateHeaders(t, r)
}

func TestRateLimitRealTime(t *testing.T) {
	e := newEnv(t)
	e.srv.SetNow(fixedClock(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))) // ignored by the limiter
	e.srv.SetRateLimit(1, time.Hour)
	expectStatus(t, e.get("/user", tokMaintainer), 200)
	before := time.Now().Unix()
	r := e.get("/user", tokMaintainer)
	after := time.Now().Unix()
	expectStatus(t, r, 429)
	reset, err := strconv.ParseInt(r.header.Get("RateLimit-Reset"), 10, 64)
	if err != nil || reset%3600 != 0 || reset <= before || reset > after+3600 {
		t.Fatalf("RateLimit-Reset = %q, want the next full hour after %d", r.header.Get("RateLimit-Reset"), before)
	}
	retry, err := strconv.ParseInt(r.header.Get("Retry-After"), 10, 64)
	if err != nil || retry < reset-after || retry > reset-before {
		t.Fatalf("Retry-After = %q, reset %d, now %d", r.header.Get("Retry-After"), reset, before)
	}
}

func TestRateLimitConcurrent(t *testing.T) {
	e := newEnv(t)
	e.setRateClock(func() time.Time { return time.Unix(1_700_000_000, 0) })
	e.srv.SetRateLimit(20, time.Minute)
	var wg sync.WaitGroup
	statuses := make(chan int, 60)
	for range 60 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/api/v4/user", nil)
			req.Header.Set("PRIVATE-TOKEN", tokMaintainer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 20 || count[429] != 40 {
		t.Fatalf("statuses = %v, want 20 × 200 and 40 × 429", count)
	}
}

func TestControlRateLimitValidation(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"rate_limit":{"requests":2}}`, "per_seconds must be at least 1"},
		{`{"rate_limit":{"requests":2,"per_seconds":-1}}`, "per_seconds must be at least 1"},
		{`{"rate_limit":{"requests":-1,"per_seconds":1}}`, "requests must not be negative"},
		{`{"rate_limit":{"requests":2,"per_seconds":1,"burst":3}}`, `unknown field "burst"`},
		{`{"rate_limit":5}`, `rate_limit must be {"requests":N,"per_seconds":S} or null`},
		{`{"rate_limit_headers_always":"yes"}`, "invalid JSON body"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			e := newEnv(t)
			e.srv.SetRateLimit(1, time.Minute)
			r := e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: tc.body})
			if msg := decode[map[string]string](t, r)["error"]; r.status != 400 || !strings.Contains(msg, tc.want) {
				t.Fatalf("got %d %s, want 400 with %s", r.status, r.body, tc.want)
			}
			// A rejected body changes nothing: the limit of one request per minute still holds.
			expectStatus(t, e.get("/user", tokMaintainer), 200)
			expectStatus(t, e.get("/user", tokMaintainer), 429)
		})
	}
	// Zero requests turn the limit off, as null does.
	e := newEnv(t)
	e.srv.SetRateLimit(1, time.Minute)
	expect(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"rate_limit":{"requests":0,"per_seconds":0}}`}), 200,
		`{"certificate_encoding":"pem","edition":"ee","gitlab_version":"19.0.0","kas_enabled":true,"kas_external_k8s_proxy_url":"","kas_external_url":"","kas_version":"","legacy_revoked_token_get":false,"licence":"ultimate","rate_limit":null,"rate_limit_headers_always":false,"receptive_agents":true}`)
	for i := range 3 {
		expectStatus(t, e.get(fmt.Sprintf("/user?i=%d", i), tokMaintainer), 200)
	}
}
