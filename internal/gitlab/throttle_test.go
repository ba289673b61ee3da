package gitlab

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A lone 429 (another client of the same user took the window's quota, a
// proxy refused one request) delays its own request only: while it waits,
// the run's other requests go on at full speed, and nothing is paced after.
func TestLone429DelaysOnlyItsOwnRequest(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		order    []string // "other" for each other request, "retry" for the refused one sent again
		refusals atomic.Int32
		refused  = make(chan struct{})
	)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v4/projects/1/cluster_agents/42" {
			if refusals.Add(1) == 1 {
				reset := time.Now().Add(time.Second).Unix()
				w.Header().Set("RateLimit-Name", "throttle_authenticated_api")
				w.Header().Set("RateLimit-Limit", "60")
				w.Header().Set("RateLimit-Observed", "61")
				w.Header().Set("RateLimit-Remaining", "0")
				w.Header().Set("RateLimit-Reset", strconv.FormatInt(reset, 10))
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte("Retry later\n"))
				close(refused)
				return
			}
			mu.Lock()
			order = append(order, "retry")
			mu.Unlock()
		} else {
			mu.Lock()
			order = append(order, "other")
			mu.Unlock()
		}
		writeJSON(w, http.StatusOK, agentJSON)
	}))
	c := newTestClient(t, srv.URL, 3)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := c.GetAgent(ctx, "1", 42)
		done <- err
	}()
	<-refused
	time.Sleep(100 * time.Millisecond) // the client has read the 429
	const others = 30
	for range others {
		if _, err := c.GetAgent(ctx, "2", 42); err != nil {
			t.Fatalf("GetAgent of project 2: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("GetAgent of project 1 after its 429: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != others+1 {
		t.Fatalf("%d requests answered, want %d", len(order), others+1)
	}
	if order[len(order)-1] != "retry" {
		for i, o := range order {
			if o == "retry" {
				t.Fatalf("the refused request was sent again after %d of the %d other requests: the others "+
					"waited for its 429 (or were paced at the announced 60 a minute)", i, others)
			}
		}
	}
}

// One answer in ten a 429 while GitLab takes the others (a proxy, another
// client of the same user): nothing holds the run or paces it, each refused
// request only waits its own Retry-After.
//
// Five requests at a time, so that between two 429s GitLab takes at least
// five requests sent after the first refused one (at most four others were
// on their way when it was sent), and each 429 answered 100 ms late, so that
// the client has seen one of those five taken before it sees the next 429,
// however busy the machine; they count whether the client sees them before
// or after the first 429. Ten at a time, every tenth answer a 429 could be
// GitLab's window used up as far as the client can tell: the nine others on
// their way when the first refused one was sent, then the next one refused.
func TestRandom429sNeitherHoldNorPaceTheRun(t *testing.T) {
	t.Parallel()
	var answers atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if answers.Add(1)%10 == 0 {
			time.Sleep(100 * time.Millisecond)
			w.Header().Set("RateLimit-Limit", "60")
			w.Header().Set("RateLimit-Observed", "61")
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", strconv.FormatInt(time.Now().Unix()+1, 10))
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		writeJSON(w, http.StatusOK, agentJSON)
	}))
	c := newTestClient(t, srv.URL, 3)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			for range 40 {
				if _, err := c.GetAgent(context.Background(), "1", 42); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	th := throttleFor(c.BaseURL())
	th.mu.Lock()
	defer th.mu.Unlock()
	if th.pace != nil || !th.holdUntil.IsZero() {
		t.Errorf("random 429s set a pace (%v) or a hold (until %v)", th.pace, th.holdUntil)
	}
	if n := answers.Load(); n < 220 {
		t.Errorf("%d answers for 200 requests, one in ten refused: want 220 or more", n)
	}
}

// fakeClock is a throttle's clock that moves only when a request sleeps.
type fakeClock struct {
	ns    atomic.Int64 // Unix nanoseconds
	slept atomic.Int64 // nanoseconds slept in all
}

func (f *fakeClock) now() time.Time { return time.Unix(0, f.ns.Load()) }

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.ns.Add(int64(d))
	f.slept.Add(int64(d))
	return nil
}

func (f *fakeClock) advance(d time.Duration) { f.ns.Add(int64(d)) }

func (f *fakeClock) set(t time.Time) { f.ns.Store(t.UnixNano()) }

func newFakeThrottle() (*throttle, *fakeClock) {
	fc := &fakeClock{}
	fc.set(time.Unix(1_700_000_000, 123_456_789))
	return &throttle{clock: clock{now: fc.now, sleep: fc.sleep}}, fc
}

// answer429 is GitLab's Rack::Attack answer: the quota is perMinute, the
// window ends in retryAfter seconds.
func answer429(perMinute string, retryAfter int, now time.Time) *http.Response {
	h := http.Header{}
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	if perMinute != "" {
		h.Set("RateLimit-Limit", perMinute)
	}
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", strconv.FormatInt(now.Unix()+int64(retryAfter), 10))
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	return &http.Response{StatusCode: http.StatusTooManyRequests, Header: h}
}

func answer200(headers ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return &http.Response{StatusCode: http.StatusOK, Header: h}
}

// confirm gives th the two 429s that show a used-up window: the second for
// a request sent after the first refused one.
func confirm(th *throttle, perMinute string, retryAfter int, now time.Time) {
	th.observe(answer429(perMinute, retryAfter, now), now, now, 0)
	th.observe(answer429(perMinute, retryAfter, now), now.Add(time.Millisecond), now, 0)
}

// startAt is when a request asking now may start.
func startAt(t *testing.T, th *throttle, fc *fakeClock) time.Time {
	t.Helper()
	before := fc.now()
	if err := th.wait(context.Background(), time.Time{}, time.Time{}); err != nil {
		t.Fatalf("wait: %v", err)
	}
	start := fc.now()
	fc.set(before)
	return start
}

func TestThrottleLone429(t *testing.T) {
	t.Parallel()
	th, fc := newFakeThrottle()
	t0 := fc.now()
	wait := th.observe(answer429("60", 1, t0), t0, t0, 0)
	if wait < time.Second || wait > time.Second+300*time.Millisecond {
		t.Fatalf("the refused request waits %v, want Retry-After: 1 (and at most 300ms of jitter)", wait)
	}
	// Another request, sent before the refused one, refused too: no
	// proof that the window is used up.
	th.observe(answer429("60", 1, t0), t0.Add(-time.Millisecond), t0.Add(time.Millisecond), 0)
	fc.advance(10 * time.Millisecond)
	for i := range 20 {
		if got := startAt(t, th, fc); !got.Equal(fc.now()) {
			t.Fatalf("request %d after a lone 429 starts %v late", i, got.Sub(fc.now()))
		}
		th.observe(answer200(), fc.now(), fc.now(), 0)
	}
	if th.pace != nil || !th.holdUntil.IsZero() {
		t.Fatalf("a lone 429 set a pace (%v) or a hold (%v)", th.pace, th.holdUntil)
	}
	// GitLab took requests sent after the refused one: a 429 within its wait
	// is lone too (a random 429, not a used-up window).
	now := fc.now()
	th.observe(answer429("60", 1, now), now, now, 0)
	if th.pace != nil || !th.holdUntil.IsZero() {
		t.Fatalf("a 429 after GitLab took requests sent after the first 429 set a pace or a hold")
	}
	// Once its wait is over, a 429 is lone again, even for a request sent after the first.
	fc.advance(2 * time.Second)
	now = fc.now()
	th.observe(answer429("60", 1, now), now, now, 0)
	if got := startAt(t, th, fc); !got.Equal(now) {
		t.Fatalf("a lone 429 after the first one's wait held the next request %v", got.Sub(now))
	}
}

// A second 429 within the first one's wait, for a request sent after the
// first refused one, holds every request until the window ends, then paces
// them at GitLab's rate on slots half an interval into each interval.
func TestThrottleConfirmed429HoldsThenPaces(t *testing.T) {
	t.Parallel()
	th, fc := newFakeThrottle()
	t0 := fc.now()
	th.observe(answer429("600", 1, t0), t0, t0, 0)
	t1 := t0.Add(5 * time.Millisecond)
	wait := th.observe(answer429("600", 1, t1), t0.Add(time.Millisecond), t1, 0)
	hold := t1.Add(wait)
	if !th.holdUntil.Equal(hold) {
		t.Fatalf("hold until %v, want %v", th.holdUntil, hold)
	}
	interval := 100 * time.Millisecond
	first := slotAtOrAfter(hold, interval)
	var starts []time.Time
	for range 50 { // 50 requests asking at once, during the hold
		start := th.reserve(fc.now())
		starts = append(starts, start)
	}
	for i, s := range starts {
		if want := first.Add(time.Duration(i) * interval); s.Sub(want).Abs() > time.Microsecond {
			t.Fatalf("request %d starts at %v, want %v (the %dth slot after the hold)", i, s, want, i)
		}
	}
	if total, floor := starts[len(starts)-1].Sub(starts[0]), 49*interval; total > floor*105/100 {
		t.Errorf("50 paced requests took %v, more than 5%% above %v", total, floor)
	}
	// Each of GitLab's one-second windows gets exactly its quota of ten.
	perWindow := map[int64]int{}
	for _, s := range starts {
		perWindow[s.Unix()]++
	}
	for w, n := range perWindow {
		if n > 10 || (w != starts[0].Unix() && w != starts[len(starts)-1].Unix() && n != 10) {
			t.Errorf("window %d got %d requests, want 10", w, n)
		}
	}
}

// Paced at GitLab's announced rate, each of GitLab's fixed windows gets
// exactly its quota: nothing above (no 429) and nothing below (no time lost),
// whatever the window's length and when the hold ends.
func TestPacedRequestsFillEachWindowExactly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		quota  int   // requests per window
		period int64 // window, seconds
	}{{10, 1}, {3, 1}, {600, 60}, {7200, 3600}, {5, 2}} {
		th, fc := newFakeThrottle()
		perMinute := strconv.FormatFloat(float64(c.quota)*60/float64(c.period), 'f', -1, 64)
		now := fc.now()
		confirm(th, perMinute, 1, now)
		perWindow := map[int64]int{}
		for range c.quota * 5 {
			start := th.reserve(fc.now())
			perWindow[start.Unix()/c.period]++
		}
		first, last := int64(1<<62), int64(0)
		for w := range perWindow {
			first, last = min(first, w), max(last, w)
		}
		for w := first + 1; w < last; w++ { // whole windows
			if perWindow[w] != c.quota {
				t.Errorf("%d per %ds: window %d got %d requests", c.quota, c.period, w, perWindow[w])
			}
		}
		if perWindow[first] > c.quota || perWindow[last] > c.quota {
			t.Errorf("%d per %ds: first and last windows got %d and %d", c.quota, c.period, perWindow[first], perWindow[last])
		}
	}
}

// A confirmed 429 without RateLimit-Limit holds, but sets no pace; a later
// one announcing another rate paces at that rate.
func TestThrottlePaceFollowsTheAnnouncedLimit(t *testing.T) {
	t.Parallel()
	th, fc := newFakeThrottle()
	now := fc.now()
	confirm(th, "", 2, now)
	if th.pace != nil {
		t.Fatal("a 429 without RateLimit-Limit set a pace")
	}
	if got := startAt(t, th, fc); got.Sub(now) < 2*time.Second {
		t.Fatalf("held %v, want Retry-After: 2", got.Sub(now))
	}
	fc.advance(3 * time.Second)
	now = fc.now()
	confirm(th, "1200", 1, now)
	if th.pace == nil || th.pace.Limit() != 20 {
		t.Fatalf("pace %v after GitLab announced 1200/min, want 20 a second", th.pace)
	}
	a := th.reserve(fc.now())
	b := th.reserve(fc.now())
	if d := b.Sub(a); (d - 50*time.Millisecond).Abs() > time.Microsecond {
		t.Fatalf("paced %v apart, want 50ms", d)
	}
}

// An answer saying that no request remains in the window holds every
// request until the window ends, when the end is near enough to believe.
func TestThrottleHoldsOnRemainingZero(t *testing.T) {
	t.Parallel()
	th, fc := newFakeThrottle()
	now := fc.now()
	reset := now.Unix() + 3
	th.observe(answer200("RateLimit-Remaining", "5", "RateLimit-Reset", strconv.FormatInt(reset, 10)), now, now, 0)
	if got := startAt(t, th, fc); !got.Equal(now) {
		t.Fatalf("RateLimit-Remaining: 5 held the next request %v", got.Sub(now))
	}
	th.observe(answer200("RateLimit-Remaining", "0", "RateLimit-Reset", strconv.FormatInt(now.Unix()+3600, 10)), now, now, 0)
	if got := startAt(t, th, fc); !got.Equal(now) {
		t.Fatalf("a reset an hour away held the next request %v, want no hold past maxWait", got.Sub(now))
	}
	th.observe(answer200("RateLimit-Remaining", "0", "RateLimit-Reset", strconv.FormatInt(reset, 10)), now, now, 0)
	if got := startAt(t, th, fc); !got.Equal(time.Unix(reset, 0)) {
		t.Fatalf("RateLimit-Remaining: 0 held the next request until %v, want RateLimit-Reset %v", got, time.Unix(reset, 0))
	}
	if th.pace != nil {
		t.Fatal("RateLimit-Remaining: 0 set a pace")
	}
}

// A request waits at most until its deadline: when the hold or its token
// would come later, it does not wait at all.
func TestThrottleWaitEndsAtTheDeadline(t *testing.T) {
	t.Parallel()
	th, fc := newFakeThrottle()
	now := fc.now()
	confirm(th, "60", 120, now)
	err := th.wait(context.Background(), time.Time{}, now.Add(90*time.Second))
	if !errors.Is(err, errWaitTooLong) || fc.slept.Load() != 0 {
		t.Fatalf("wait with a hold past the deadline: %v after %v, want errWaitTooLong at once", err, time.Duration(fc.slept.Load()))
	}
	// The token given back: the next request gets the first slot.
	if err := th.wait(context.Background(), time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if want := slotAtOrAfter(th.holdUntil, time.Second); fc.now().Sub(want).Abs() > time.Microsecond {
		t.Fatalf("next request at %v, want the first slot %v", fc.now(), want)
	}
	// Its own wait (notBefore) counts too.
	th2, fc2 := newFakeThrottle()
	now = fc2.now()
	if err := th2.wait(context.Background(), now.Add(2*time.Second), now.Add(time.Second)); !errors.Is(err, errWaitTooLong) {
		t.Fatalf("wait with notBefore past the deadline: %v", err)
	}
	if err := th2.wait(context.Background(), now.Add(2*time.Second), now.Add(3*time.Second)); err != nil || !fc2.now().Equal(now.Add(2*time.Second)) {
		t.Fatalf("wait until notBefore: %v, at %v", err, fc2.now().Sub(now))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	th3, fc3 := newFakeThrottle()
	if err := th3.wait(ctx, fc3.now().Add(time.Second), time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a cancelled context: %v", err)
	}
}

// A hold that comes while a request sleeps makes it wait again.
func TestThrottleWaitsAgainForAHoldThatCameMeanwhile(t *testing.T) {
	t.Parallel()
	th, fc := newFakeThrottle()
	var once sync.Once
	th.clock.sleep = func(ctx context.Context, d time.Duration) error {
		once.Do(func() {
			now := fc.now()
			confirm(th, "", 5, now)
		})
		return fc.sleep(ctx, d)
	}
	start := fc.now()
	if err := th.wait(context.Background(), start.Add(time.Second), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := fc.now().Sub(start); got < 5*time.Second {
		t.Fatalf("started after %v, want after the 5s hold that came while it slept", got)
	}
}
