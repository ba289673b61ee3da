package gitlab

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func resp429(headers map[string]string) *http.Response {
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: http.StatusTooManyRequests, Header: h}
}

func assertBetween(t *testing.T, what string, got, lo, hi time.Duration) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %v, want between %v and %v", what, got, lo, hi)
	}
}

func TestBackoffRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for range 20 {
		d := backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"Retry-After": "3"}))
		assertBetween(t, "backoff(Retry-After: 3)", d, 3*time.Second, 3300*time.Millisecond)
	}
	// The attempt number does not change a wait GitLab asked for.
	d := backoff(100*time.Millisecond, 400*time.Millisecond, 4, resp429(map[string]string{"Retry-After": "3"}))
	assertBetween(t, "backoff(Retry-After: 3, attempt 4)", d, 3*time.Second, 3300*time.Millisecond)
	// Retry-After: 0 still waits the minimum backoff.
	d = backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"Retry-After": "0"}))
	assertBetween(t, "backoff(Retry-After: 0)", d, minRateLimitWait, minRateLimitWait+300*time.Millisecond)
}

func TestBackoffRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)
	d := backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"Retry-After": at}))
	// The date has a one-second resolution.
	assertBetween(t, "backoff(Retry-After: date in 10s)", d, 8900*time.Millisecond, 10300*time.Millisecond)

	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	d = backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"Retry-After": past}))
	assertBetween(t, "backoff(Retry-After: past date)", d, minRateLimitWait, minRateLimitWait+300*time.Millisecond)
}

func TestBackoffRetryAfterPreferredOverRateLimitReset(t *testing.T) {
	t.Parallel()
	reset := strconv.FormatInt(time.Now().Add(20*time.Second).Unix(), 10)
	// Both sent: Retry-After (relative) wins over RateLimit-Reset (absolute, skew-prone).
	d := backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{
		"RateLimit-Reset": reset,
		"Retry-After":     "3",
	}))
	assertBetween(t, "backoff(RateLimit-Reset in 20s, Retry-After: 3)", d, 3*time.Second, 3300*time.Millisecond)

	// Only RateLimit-Reset.
	d = backoff(100*time.Millisecond, 400*time.Millisecond, 2, resp429(map[string]string{"RateLimit-Reset": reset}))
	assertBetween(t, "backoff(RateLimit-Reset in 20s)", d, 18900*time.Millisecond, 20300*time.Millisecond)

	// A reset in the past still waits the minimum backoff.
	past := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	d = backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"RateLimit-Reset": past}))
	assertBetween(t, "backoff(RateLimit-Reset in the past)", d, minRateLimitWait, minRateLimitWait+300*time.Millisecond)

	// Retry-After: 0 also waits the minimum.
	d = backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"Retry-After": "0"}))
	assertBetween(t, "backoff(Retry-After: 0)", d, minRateLimitWait, minRateLimitWait+300*time.Millisecond)

	// An unusable RateLimit-Reset falls back to Retry-After.
	for _, bad := range []string{"soon", "0", "-5"} {
		d = backoff(100*time.Millisecond, 400*time.Millisecond, 0, resp429(map[string]string{"RateLimit-Reset": bad, "Retry-After": "3"}))
		assertBetween(t, "backoff(RateLimit-Reset: "+bad+", Retry-After: 3)", d, 3*time.Second, 3300*time.Millisecond)
	}
}

func TestBackoffExponentialWithoutHeaders(t *testing.T) {
	t.Parallel()
	const minWait = 100 * time.Millisecond
	for attempt := range 10 {
		exp := minWait << attempt
		for range 10 {
			d := backoff(minWait, 400*time.Millisecond, attempt, resp429(nil))
			assertBetween(t, "backoff(429, attempt "+strconv.Itoa(attempt)+")", d, exp, exp+exp/2+time.Millisecond)
		}
	}
	// Unparsable headers count as absent.
	d := backoff(minWait, 400*time.Millisecond, 2, resp429(map[string]string{"Retry-After": "later", "RateLimit-Reset": "x"}))
	assertBetween(t, "backoff(429, garbage headers, attempt 2)", d, 400*time.Millisecond, 601*time.Millisecond)
}

func TestBackoffCappedAtMaxWait(t *testing.T) {
	t.Parallel()
	const minWait = 100 * time.Millisecond
	for _, attempt := range []int{11, 12, 19, 20, 30, 35, 36, 37, 40, 50, 63, 64, 100, 1000} {
		for range 5 {
			d := backoff(minWait, 400*time.Millisecond, attempt, resp429(nil))
			if d != maxWait {
				t.Errorf("backoff(429, attempt %d) = %v, want maxWait %v", attempt, d, maxWait)
				break
			}
		}
	}
	day := strconv.FormatInt(time.Now().Add(24*time.Hour).Unix(), 10)
	for name, h := range map[string]map[string]string{
		"Retry-After one day":       {"Retry-After": "86400"},
		"Retry-After absurd":        {"Retry-After": "9999999999999"},
		"Retry-After far date":      {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
		"RateLimit-Reset in a day":  {"RateLimit-Reset": day},
		"RateLimit-Reset far away":  {"RateLimit-Reset": "9000000000000000000"},
		"RateLimit-Reset max int64": {"RateLimit-Reset": "9223372036854775807"},
	} {
		d := backoff(minWait, 400*time.Millisecond, 0, resp429(h))
		if d != maxWait {
			t.Errorf("backoff(429, %s) = %v, want maxWait %v", name, d, maxWait)
		}
	}
}

func TestBackoffOtherFailuresLinear(t *testing.T) {
	t.Parallel()
	for _, resp := range []*http.Response{
		nil, // a transport error
		{StatusCode: http.StatusBadGateway, Header: http.Header{}},
		{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}},
	} {
		for attempt := range 4 {
			d := backoff(100*time.Millisecond, 400*time.Millisecond, attempt, resp)
			n := time.Duration(attempt + 1)
			assertBetween(t, "backoff(non-429, attempt "+strconv.Itoa(attempt)+")", d, n*700*time.Millisecond, n*900*time.Millisecond)
		}
	}
}

func TestRateLimitWait(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{"none", nil, 0, false},
		{"Retry-After seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second, true},
		{"Retry-After zero", map[string]string{"Retry-After": "0"}, 0, true},
		{"Retry-After negative", map[string]string{"Retry-After": "-3"}, 0, false},
		{"Retry-After date", map[string]string{"Retry-After": now.Add(42 * time.Second).UTC().Format(http.TimeFormat)}, 42 * time.Second, true},
		{"Retry-After past date", map[string]string{"Retry-After": now.Add(-42 * time.Second).UTC().Format(http.TimeFormat)}, 0, true},
		{"Retry-After garbage", map[string]string{"Retry-After": "soon"}, 0, false},
		{"RateLimit-Reset", map[string]string{"RateLimit-Reset": "1700000030"}, 30 * time.Second, true},
		{"RateLimit-Reset past", map[string]string{"RateLimit-Reset": "1699999990"}, 0, true},
		{"Retry-After preferred", map[string]string{"RateLimit-Reset": "1700000030", "Retry-After": "5"}, 5 * time.Second, true},
		{"RateLimit-Reset garbage", map[string]string{"RateLimit-Reset": "x", "Retry-After": "5"}, 5 * time.Second, true},
		// Never more than maxWait, whatever GitLab (or a proxy) sends.
		{"Retry-After huge", map[string]string{"Retry-After": "9999999999999"}, maxWait, true},
		{"Retry-After far date", map[string]string{"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, maxWait, true},
		{"RateLimit-Reset huge", map[string]string{"RateLimit-Reset": "9223372036854775807"}, maxWait, true},
		{"RateLimit-Reset just over maxWait", map[string]string{"RateLimit-Reset": "1700000121"}, maxWait, true},
		{"RateLimit-Reset at maxWait", map[string]string{"RateLimit-Reset": "1700000120"}, maxWait, true},
		// Header names are case-insensitive.
		{"lower-case names", map[string]string{"ratelimit-reset": "1700000010"}, 10 * time.Second, true},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		got, ok := rateLimitWait(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: rateLimitWait = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// countingHandler answers the n-th request (from 1) with answer(n, w, r).
func countingHandler(t *testing.T, reqs *requestLog, answer func(n int, w http.ResponseWriter, r *http.Request)) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		answer(reqs.count(), w, r)
	})
}

const agentJSON = `{"id":42,"name":"agent-1","config_project":{"id":7,"path_with_namespace":"root/test"},"created_at":"2022-04-20T20:42:40.221Z","created_by_user_id":1}`

func TestRetryGETAfter502(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			writeJSON(w, http.StatusBadGateway, `{"message":"502 Bad Gateway"}`)
			return
		}
		writeJSON(w, http.StatusOK, agentJSON)
	}))
	c := newTestClient(t, srv.URL, 3)
	a, err := c.GetAgent(context.Background(), "root/test", 42)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if a.ID != 42 || a.Name != "agent-1" {
		t.Errorf("GetAgent = %+v", a)
	}
	got := reqs.all()
	if len(got) != 2 {
		t.Fatalf("%d attempts, want 2", len(got))
	}
	if gap := got[1].At.Sub(got[0].At); gap < 600*time.Millisecond {
		t.Errorf("retried after %v, want a back-off of about 700-900ms", gap)
	}
}

func TestRetryDELETEAfter503(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			writeJSON(w, http.StatusServiceUnavailable, `{"message":"503 Service Unavailable"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	c := newTestClient(t, srv.URL, 3)
	if err := c.DeleteAgent(context.Background(), "root/test", 42); err != nil {
		t.Fatalf("DeleteAgent: %v", err)
	}
	if n := reqs.count(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestNoRetryOfCreateAfter5xx(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		var reqs requestLog
		srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				writeJSON(w, http.StatusOK, `[]`) // the reconciling list: GitLab created nothing
				return
			}
			writeJSON(w, status, `{"message":"`+strconv.Itoa(status)+` oops"}`)
		}))
		c := newTestClient(t, srv.URL, 5)
		start := time.Now()
		_, _, err := c.RegisterAgent(context.Background(), "root/test", "agent-1")
		e := asError(t, err)
		var posts, lists int
		for _, r := range reqs.all() {
			switch r.Method {
			case http.MethodPost:
				posts++
			case http.MethodGet:
				lists++
			}
		}
		if posts != 1 || lists != 1 {
			t.Errorf("%d: %d POSTs and %d list requests, want exactly 1 of each", status, posts, lists)
		}
		if e.Status != status {
			t.Errorf("Status = %d, want %d", e.Status, status)
		}
		assertContains(t, "Detail", e.Detail, strconv.Itoa(status), "a create is never repeated", `project "root/test"`)
		if d := time.Since(start); d > 650*time.Millisecond {
			t.Errorf("a POST answered %d took %v: it must fail without a retry (the first retry waits at least 700ms)", status, d)
		}
	}
}

func TestRegisterAgentLostAnswerIsReconciled(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	created := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			// GitLab did register the agent; an older agent of another name is there too.
			writeJSON(w, http.StatusOK, `[{"id":6,"name":"agent-0","created_at":"2020-01-01T00:00:00.000Z"},`+
				`{"id":7,"name":"agent-1","created_at":"`+created+`","config_project":{"id":20}}]`)
			return
		}
		writeJSON(w, http.StatusBadGateway, `{"message":"502 Bad Gateway"}`)
	}))
	a, recovered, err := newTestClient(t, srv.URL, 5).RegisterAgent(context.Background(), "root/test", "agent-1")
	if err != nil || !recovered || a.ID != 7 || a.ConfigProject.ID != 20 {
		t.Fatalf("RegisterAgent = %+v, recovered %v, %v; want agent 7 recovered", a, recovered, err)
	}
	if n := reqs.count(); n != 2 {
		t.Errorf("%d requests, want the POST and one list", n)
	}
}

func TestRetryCreateAfter429RetryAfter(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte("Retry later\n"))
			return
		}
		writeJSON(w, http.StatusCreated, `{"id":43,"name":"agent-1"}`)
	}))
	c := newTestClient(t, srv.URL, 3)
	start := time.Now()
	a, _, err := c.RegisterAgent(context.Background(), "root/test", "agent-1")
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("RegisterAgent: %v", err)
	}
	if a.ID != 43 {
		t.Errorf("agent ID = %d, want 43", a.ID)
	}
	got := reqs.all()
	if len(got) != 2 {
		t.Fatalf("%d attempts, want 2", len(got))
	}
	if elapsed < 900*time.Millisecond {
		t.Errorf("RegisterAgent took %v: Retry-After: 1 was not honoured", elapsed)
	}
	if gap := got[1].At.Sub(got[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want at least ~1s", gap)
	}
	for i, r := range got {
		if r.Method != http.MethodPost || r.Body != `{"name":"agent-1"}` {
			t.Errorf("attempt %d: %s with body %q, want POST {\"name\":\"agent-1\"}", i+1, r.Method, r.Body)
		}
	}
}

func TestRetryAfter429RateLimitReset(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	var reset atomic.Int64
	srv := newServer(t, countingHandler(t, &reqs, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			// GitLab's Rack::Attack answer, without Retry-After so that only
			// RateLimit-Reset can explain the wait. Two seconds ahead, as
			// the header has a resolution of one second.
			at := time.Now().Unix() + 2
			reset.Store(at)
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("RateLimit-Name", "throttle_authenticated_api")
			w.Header().Set("RateLimit-Observed", "601")
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", strconv.FormatInt(at, 10))
			w.Header().Set("RateLimit-ResetTime", time.Unix(at, 0).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte("Retry later\n"))
			return
		}
		writeJSON(w, http.StatusOK, agentJSON)
	}))
	c := newTestClient(t, srv.URL, 3)
	if _, err := c.GetAgent(context.Background(), "root/test", 42); err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	got := reqs.all()
	if len(got) != 2 {
		t.Fatalf("%d attempts, want 2", len(got))
	}
	resetAt := time.Unix(reset.Load(), 0)
	if got[1].At.Before(resetAt.Add(-50 * time.Millisecond)) {
		t.Errorf("retried at %v, before RateLimit-Reset %v", got[1].At, resetAt)
	}
}

func TestNoRetriesWhenZero(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status  int
		headers map[string]string
		detail  string
	}{
		{http.StatusBadGateway, nil, "502"},
		{http.StatusTooManyRequests, map[string]string{"Retry-After": "0"}, "429 Too Many Requests"},
	}
	for _, tc := range cases {
		var reqs requestLog
		srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, _ *http.Request) {
			for k, v := range tc.headers {
				w.Header().Set(k, v)
			}
			writeJSON(w, tc.status, `{"message":"nope"}`)
		}))
		c := newTestClient(t, srv.URL, 0)
		_, err := c.GetAgent(context.Background(), "root/test", 42)
		e := asError(t, err)
		if n := reqs.count(); n != 1 {
			t.Errorf("%d with retries = 0: %d attempts, want 1", tc.status, n)
		}
		if e.Status != tc.status {
			t.Errorf("Status = %d, want %d", e.Status, tc.status)
		}
		assertContains(t, "Detail", e.Detail, tc.detail)
	}

	// A negative number of retries counts as none.
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusBadGateway, `{"message":"502 Bad Gateway"}`)
	}))
	c := newTestClient(t, srv.URL, -1)
	if _, err := c.GetAgent(context.Background(), "root/test", 42); err == nil {
		t.Error("GetAgent succeeded against a 502")
	}
	if n := reqs.count(); n != 1 {
		t.Errorf("retries = -1: %d attempts, want 1", n)
	}
}

func TestRateLimitWaitExhaustedOn429(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		writeJSON(w, http.StatusTooManyRequests, `{"message":"429 Too Many Requests"}`)
	}))
	c, err := New(Config{BaseURL: srv.URL, Token: testToken, Retries: 2, RateLimitWait: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = c.RegisterAgent(context.Background(), "root/test", "agent-1")
	e := asError(t, err)
	// A 429 is waited out (at least minRateLimitWait each, even with
	// Retry-After: 0) until RateLimitWait is used up, whatever `retries` is.
	if n := reqs.count(); n != 2 {
		t.Errorf("%d attempts in %v, want 2 (1s waits, 1.5s allowed)", n, time.Since(start))
	}
	if e.Status != http.StatusTooManyRequests {
		t.Errorf("Status = %d, want 429", e.Status)
	}
	assertContains(t, "Detail", described(e), "429 Too Many Requests", "[kind rate limited]", "[check retries]")
	if e.GitLabMessage != "429 Too Many Requests" {
		t.Errorf("GitLabMessage = %q", e.GitLabMessage)
	}
}

func TestRateLimit429DoesNotUseRetries(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 3 {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, http.StatusTooManyRequests, `{"message":"429 Too Many Requests"}`)
			return
		}
		writeJSON(w, http.StatusOK, agentJSON)
	}))
	c := newTestClient(t, srv.URL, 1)
	if _, err := c.GetAgent(context.Background(), "root/test", 42); err != nil {
		t.Fatalf("GetAgent after three 429s with retries = 1: %v", err)
	}
	if n := reqs.count(); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
}

func TestRetryWaitStopsOnContextCancel(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, countingHandler(t, &reqs, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, `{"message":"429 Too Many Requests"}`)
	}))
	c := newTestClient(t, srv.URL, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetAgent(ctx, "root/test", 42)
	if err == nil {
		t.Fatal("GetAgent succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("GetAgent returned after %v: the wait did not stop with the context", d)
	}
	if n := reqs.count(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}
