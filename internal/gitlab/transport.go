package gitlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultRequestTimeout bounds one attempt of one request when
// Config.RequestTimeout is not set.
const DefaultRequestTimeout = 60 * time.Second

// minRateLimitWait is the least a rate-limited request waits, even when
// GitLab's reset time is already past by the client's clock.
const minRateLimitWait = time.Second

// maxThrottledWait is how long after its first 429 a request may still be
// sent again (waiting for its own 429s, the holds and its token all count)
// before its 429 is returned, unless Config.RateLimitWait says otherwise.
const maxThrottledWait = 10 * time.Minute

// TimeoutError is an attempt that got no complete answer within
// Config.RequestTimeout. It is not retried: a stalled GitLab or proxy
// would only stall again.
type TimeoutError struct {
	Method  string
	Path    string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s %s got no complete answer within %s (request_timeout)", e.Method, e.Path, e.Timeout)
}

// droppedError is a connection that failed (reset, EOF, no answer) during an
// idempotent request or a GraphQL query: retried like a 5xx. Errors of other methods are not
// wrapped, so they are never repeated blindly.
type droppedError struct{ err error }

func (e *droppedError) Error() string { return e.err.Error() }
func (e *droppedError) Unwrap() error { return e.err }

// throttle is how every request of the provider process to one GitLab waits
// for GitLab's rate limit. GitLab counts each user's requests in fixed
// windows aligned to the Unix epoch, and answers 429 once a window's quota is
// used up, with Retry-After (seconds to the window's end), RateLimit-Reset
// (the end, in Unix seconds) and RateLimit-Limit (the quota per minute).
// There are three rules, one for each thing GitLab can say:
//
//   - A 429 delays its own request: it is sent again once GitLab's wait is
//     over (see backoff). A lone 429 (another client of the same user took
//     the quota, a proxy refused one request) delays nothing else.
//   - A second 429 within that wait, for a request sent after the first
//     refused one, while no request sent after the first refused one has
//     been answered otherwise (seen before or after the first 429: answers
//     to concurrent requests come in out of order), shows that the window's
//     quota is used up: every request
//     then holds until the window ends, and from then on takes a token from a
//     bucket filled at GitLab's announced rate, one token at a time (burst
//     1). The first token of the bucket is half an interval into an interval
//     counted from the epoch, so each of GitLab's windows, a whole number of
//     intervals long, gets exactly its quota, and no request reaches GitLab
//     near a window's edge. Each later confirmed 429 holds again and starts
//     the bucket afresh at the end of the hold.
//   - An answer saying that no request remains in the window
//     (RateLimit-Remaining: 0, as GitLab.com sends with every answer) holds
//     every request until RateLimit-Reset.
//
// Until GitLab says so, nothing is delayed. A request waits for all of it
// together (its own wait, the holds, its token) at most the time given to
// wait (see transport), measured from its first 429.
type throttle struct {
	clock clock

	mu        sync.Mutex
	holdUntil time.Time     // no request starts before this: GitLab's window is used up
	refused   time.Time     // when the request of the latest lone 429 was sent
	waitUntil time.Time     // and when its wait ends
	taken     time.Time     // when the latest request GitLab answered otherwise was sent
	pace      *rate.Limiter // GitLab's rate, once a 429 is confirmed; nil before
	paceGen   int           // how many times pace was started
}

// clock is the time a throttle goes by: the real one, or a test's.
type clock struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

var realClock = clock{now: time.Now, sleep: sleep}

// errWaitTooLong is a request that would have to wait past its deadline.
var errWaitTooLong = errors.New("the rate limit's wait would end past the deadline")

// throttles holds one throttle per GitLab API URL, shared by every client of
// the process.
var throttles sync.Map // string -> *throttle

func throttleFor(baseURL string) *throttle {
	t, _ := throttles.LoadOrStore(baseURL, &throttle{clock: realClock})
	return t.(*throttle)
}

// wait blocks until a request may start, and no sooner than notBefore. It
// returns errWaitTooLong without waiting when that would be after deadline
// (unless deadline is zero), and ctx's error when ctx ends first.
func (t *throttle) wait(ctx context.Context, notBefore, deadline time.Time) error {
	for {
		now := t.clock.now()
		t.mu.Lock()
		start := t.startFor(now)
		if start.Before(notBefore) {
			start = notBefore
		}
		if !deadline.IsZero() && start.After(deadline) {
			t.mu.Unlock()
			return errWaitTooLong
		}
		if t.pace != nil {
			// Taken at now, not at notBefore, so that the bucket's
			// clock never goes back; a token of a time before
			// notBefore is left unused.
			if token := t.reserve(now); token.After(start) {
				start = token
			}
		}
		gen := t.paceGen
		t.mu.Unlock()
		if d := start.Sub(now); d > 0 {
			if err := t.clock.sleep(ctx, d); err != nil {
				return err
			}
		}
		// A confirmed 429 may have come meanwhile.
		t.mu.Lock()
		again := t.clock.now().Before(t.holdUntil) || t.paceGen != gen
		t.mu.Unlock()
		if !again {
			return nil
		}
	}
}

// startFor is the earliest a request asking at now may start: after the
// hold, and when the bucket will have a token for it. The lock must be held.
func (t *throttle) startFor(now time.Time) time.Time {
	start := now
	if t.holdUntil.After(start) {
		start = t.holdUntil
	}
	if t.pace == nil {
		return start
	}
	if missing := 1 - t.pace.TokensAt(start); missing > 0 {
		start = start.Add(time.Duration(missing / float64(t.pace.Limit()) * float64(time.Second)))
	}
	return start
}

// reserve takes a token for a request asking at at, after the hold, and
// returns when it starts. The lock must be held, and pace set.
func (t *throttle) reserve(at time.Time) time.Time {
	if t.holdUntil.After(at) {
		at = t.holdUntil
	}
	token := t.pace.ReserveN(at, 1)
	return at.Add(token.DelayFrom(at))
}

// observe learns from an answer to a request sent at sent and answered at
// now. For a 429, the attempt-th of its request, it returns how long that
// request waits before it is sent again.
func (t *throttle) observe(resp *http.Response, sent, now time.Time, attempt int) time.Duration {
	h := resp.Header
	t.mu.Lock()
	defer t.mu.Unlock()
	if resp.StatusCode != http.StatusTooManyRequests {
		// Whenever the client sees it: an answer to a request sent after
		// the lone 429's may come in before the 429 itself.
		if sent.After(t.taken) {
			t.taken = sent
		}
		if h.Get("RateLimit-Remaining") != "0" {
			return 0
		}
		reset, err := strconv.ParseInt(h.Get("RateLimit-Reset"), 10, 64)
		if err == nil && reset > now.Unix() && reset-now.Unix() <= int64(maxWait/time.Second) {
			t.hold(time.Unix(reset, 0))
		}
		return 0
	}
	wait := backoff(minRateLimitWait, 0, attempt, resp)
	until := now.Add(wait)
	if !now.Before(t.waitUntil) || !sent.After(t.refused) || t.taken.After(t.refused) {
		// A lone 429, or one of a request sent before the lone one, or
		// one after GitLab took a request sent after the lone one: the
		// window was not used up then.
		if !now.Before(t.waitUntil) {
			t.refused, t.waitUntil = sent, until
		}
		return wait
	}
	t.hold(until)
	if perMinute, err := strconv.ParseFloat(h.Get("RateLimit-Limit"), 64); err == nil && perMinute > 0 {
		// A new bucket, whose one token is spent so that the next comes on
		// the first slot after the hold; requests waiting for a token of
		// the old one ask again.
		interval := time.Duration(float64(time.Minute) / perMinute)
		t.pace = rate.NewLimiter(rate.Every(interval), 1)
		t.pace.ReserveN(slotAtOrAfter(t.holdUntil, interval).Add(-interval), 1)
		t.paceGen++
	}
	return wait
}

// hold keeps every request from starting before until. The lock must be held.
func (t *throttle) hold(until time.Time) {
	if until.After(t.holdUntil) {
		t.holdUntil = until
	}
}

// slotAtOrAfter is the first time at or after t that is half an interval
// into an interval counted from the Unix epoch.
func slotAtOrAfter(t time.Time, interval time.Duration) time.Time {
	iv := int64(interval)
	ns := t.UnixNano() - iv/2
	k := ns / iv
	if k*iv < ns {
		k++
	}
	return time.Unix(0, k*iv+iv/2)
}

// transport is the provider's policy over HTTP: it waits for the
// process-wide throttle, bounds each attempt by the request timeout, answers
// a 429 by waiting as GitLab asks and sending again (GitLab did nothing with
// a throttled request, whatever its method) until rateLimitWait after the
// first 429 at most (a negative rateLimitWait returns the first 429), and
// marks dropped connections of idempotent requests as retryable.
func transport(baseURL string, timeout, rateLimitWait time.Duration) func(http.RoundTripper) http.RoundTripper {
	return throttledTransport(throttleFor(baseURL), timeout, rateLimitWait)
}

func throttledTransport(th *throttle, timeout, rateLimitWait time.Duration) func(http.RoundTripper) http.RoundTripper {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			body, err := replayableBody(req)
			if err != nil {
				return nil, err
			}
			var notBefore, deadline time.Time
			var refused *http.Response
			for throttledAnswers := 0; ; throttledAnswers++ {
				if err := th.wait(req.Context(), notBefore, deadline); errors.Is(err, errWaitTooLong) {
					return refused, nil
				} else if err != nil {
					return nil, err
				}
				sent := th.clock.now()
				resp, err := attempt(next, req, body, timeout)
				if err != nil {
					return nil, err
				}
				now := th.clock.now()
				wait := th.observe(resp, sent, now, throttledAnswers)
				if resp.StatusCode != http.StatusTooManyRequests || rateLimitWait < 0 {
					return resp, nil
				}
				if deadline.IsZero() {
					deadline = now.Add(rateLimitWait)
				}
				notBefore = now.Add(wait)
				if refused, err = keptAnswer(resp); err != nil {
					return nil, err
				}
			}
		})
	}
}

// keptAnswer reads a 429's body (GitLab's are a line of text), so that it
// can be returned once the request has waited long enough.
func keptAnswer(resp *http.Response) (*http.Response, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// attempt sends req once, bounded by timeout, including the reading of the
// answer's body.
func attempt(next http.RoundTripper, req *http.Request, body []byte, timeout time.Duration) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, timeout)
	r := req.Clone(ctx)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	timedOut := func() error {
		if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{Method: req.Method, Path: req.URL.EscapedPath(), Timeout: timeout}
		}
		return nil
	}
	resp, err := next.RoundTrip(r)
	if err != nil {
		cancel()
		if te := timedOut(); te != nil {
			return nil, te
		}
		if parent.Err() != nil {
			return nil, parent.Err()
		}
		if isRepeatable(parent, req.Method) || isDialError(err) {
			return nil, &droppedError{err: err}
		}
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, cancel: cancel, timedOut: timedOut}
	return resp, nil
}

// timedBody ends an attempt's timeout when its body is closed, and reports a
// body cut short by the timeout as a TimeoutError.
type timedBody struct {
	io.ReadCloser
	cancel   context.CancelFunc
	timedOut func() error
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if te := b.timedOut(); te != nil {
			return n, te
		}
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// replayableBody reads a request body once so that it can be sent again
// after a 429. Bodies of GitLab API requests are small JSON documents.
func replayableBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return data, nil
}

// idempotent reports whether repeating a request cannot repeat a change.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// isDialError reports a connection that could not be made at all: no request
// reached GitLab, so even a POST may be sent again.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) && !dns.IsNotFound
}

// checkRetry decides which failed attempts client-go's retry loop repeats:
// a 5xx or a dropped connection only for idempotent methods and GraphQL
// queries (isRepeatable), a connection
// that could not be made for every method. A 429 reaching it was already
// waited out by transport for as long as allowed. Timeouts and cancellation
// end the request.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		if err != nil {
			return false, err // which wraps ctx's error, and tells whether the request was sent
		}
		return false, ctx.Err()
	}
	if err != nil {
		var te *TimeoutError
		if errors.As(err, &te) {
			return false, nil
		}
		var dropped *droppedError
		return errors.As(err, &dropped), nil
	}
	if resp.StatusCode == 0 || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		return resp.Request == nil || isRepeatable(ctx, resp.Request.Method), nil
	}
	return false, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
