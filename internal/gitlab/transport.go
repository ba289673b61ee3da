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
)

// DefaultRequestTimeout bounds one attempt of one request when the provider
// configuration sets no `request_timeout`.
const DefaultRequestTimeout = 60 * time.Second

// minRateLimitWait is the least a rate-limited request waits, even when
// GitLab's reset time is already past by the client's clock.
const minRateLimitWait = time.Second

// maxThrottledWait is how long one request may spend waiting for GitLab's
// rate limit (all its 429 answers together) before its 429 is returned,
// unless Config.RateLimitWait says otherwise.
const maxThrottledWait = 10 * time.Minute

// slowerShare is what the paced rate is multiplied by each time a request
// sent while pacing is answered 429 all the same (clocks apart, answers
// delayed on the way, another client using the same user's quota), and
// leastShare the least share of GitLab's announced rate it comes down to.
const (
	slowerShare = 0.95
	leastShare  = 0.5
)

// TimeoutError is an attempt that got no complete answer within the
// provider's `request_timeout`. It is not retried: a stalled GitLab or proxy
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

// throttle paces every request of the provider process to one GitLab. It
// learns from GitLab itself: a 429 holds every request until GitLab's
// Retry-After (or RateLimit-Reset) and from then on paces requests at the
// rate GitLab announced in RateLimit-Limit; an answer saying that no request
// remains in the window (RateLimit-Remaining: 0, as GitLab.com sends on every
// answer) holds every request until RateLimit-Reset. Until GitLab says so,
// nothing is delayed.
//
// GitLab counts requests in fixed windows aligned to the Unix epoch, a whole
// number of seconds long, and RateLimit-Limit is the window's quota per
// minute. Paced requests start one interval (a minute / the limit) apart, on
// a grid of slots aligned to the epoch half an interval into each interval:
// each window then holds exactly its quota of slots, so the client uses the
// whole rate without a margin, and a request reaches GitLab half an interval
// away from a window's edge. Should a request sent while pacing be answered
// 429 all the same, the pace slows by slowerShare (down to leastShare of the
// announced rate).
type throttle struct {
	mu       sync.Mutex
	until    time.Time     // no request starts before this
	limit    float64       // requests per minute GitLab announced; 0 until it rate-limited a request
	share    float64       // of limit paced at
	interval time.Duration // between paced requests; 0 while not pacing
	since    time.Time     // when pacing at this interval began
	next     time.Time     // no paced request starts before this
}

// throttles holds one throttle per GitLab API URL, shared by every client of
// the process.
var throttles sync.Map // string -> *throttle

func throttleFor(baseURL string) *throttle {
	t, _ := throttles.LoadOrStore(baseURL, &throttle{})
	return t.(*throttle)
}

// wait blocks until a request may start, or ctx ends.
func (t *throttle) wait(ctx context.Context) error {
	for {
		now := time.Now()
		t.mu.Lock()
		start := now
		if t.until.After(start) {
			start = t.until
		}
		if t.interval > 0 {
			if t.next.After(start) {
				start = t.next
			}
			start = slotAtOrAfter(start, t.interval)
			t.next = start.Add(t.interval)
		}
		t.mu.Unlock()
		if d := start.Sub(now); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
		// A 429 may have come meanwhile.
		t.mu.Lock()
		held := time.Now().Before(t.until)
		t.mu.Unlock()
		if !held {
			return nil
		}
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

// observe learns from an answer to a request sent at sent. When the answer
// is the attempt-th 429 of its request, it returns how long every request
// now waits (see backoff).
func (t *throttle) observe(resp *http.Response, sent, now time.Time, attempt int) time.Duration {
	h := resp.Header
	if resp.StatusCode == http.StatusTooManyRequests {
		wait := backoff(minRateLimitWait, 0, attempt, resp)
		t.mu.Lock()
		defer t.mu.Unlock()
		if until := now.Add(wait); until.After(t.until) {
			t.until = until
		}
		perMinute, err := strconv.ParseFloat(h.Get("RateLimit-Limit"), 64)
		switch {
		case err != nil || perMinute <= 0:
		case perMinute != t.limit:
			t.limit, t.share = perMinute, 1
			t.pace(now)
		case t.interval > 0 && !sent.Before(t.since) && t.share > leastShare:
			// Paced and refused all the same.
			t.share = max(t.share*slowerShare, leastShare)
			t.pace(now)
		}
		return wait
	}
	if h.Get("RateLimit-Remaining") != "0" {
		return 0
	}
	if reset, err := strconv.ParseInt(h.Get("RateLimit-Reset"), 10, 64); err == nil && reset > now.Unix() && reset-now.Unix() <= int64(maxWait/time.Second) {
		t.mu.Lock()
		if until := time.Unix(reset, 0); until.After(t.until) {
			t.until = until
		}
		t.mu.Unlock()
	}
	return 0
}

// pace sets the interval for the limit and share, from now on. The lock
// must be held.
func (t *throttle) pace(now time.Time) {
	t.interval = time.Duration(float64(time.Minute) / (t.limit * t.share))
	t.since = now
}

// transport is the provider's policy over HTTP: it waits for the
// process-wide throttle, bounds each attempt by the request timeout, answers
// a 429 by waiting as GitLab asks and sending again (GitLab did nothing with
// a throttled request, whatever its method) for at most rateLimitWait in all
// (a negative rateLimitWait returns the first 429), and marks dropped
// connections of idempotent requests as retryable.
func transport(baseURL string, timeout, rateLimitWait time.Duration) func(http.RoundTripper) http.RoundTripper {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	th := throttleFor(baseURL)
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			body, err := replayableBody(req)
			if err != nil {
				return nil, err
			}
			throttled := time.Duration(0)
			for throttledAnswers := 0; ; throttledAnswers++ {
				if err := th.wait(req.Context()); err != nil {
					return nil, err
				}
				sent := time.Now()
				resp, err := attempt(next, req, body, timeout)
				if err != nil {
					return nil, err
				}
				wait := th.observe(resp, sent, time.Now(), throttledAnswers)
				if resp.StatusCode != http.StatusTooManyRequests {
					return resp, nil
				}
				if throttled += wait; throttled > rateLimitWait {
					return resp, nil
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
			}
		})
	}
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
