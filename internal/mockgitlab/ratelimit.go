package mockgitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// RateLimit is the mock's rate-limit mode: at most Requests authenticated API requests per user in each
// window of PerSeconds seconds. A zero Requests turns it off.
type RateLimit struct {
	Requests   int `json:"requests"`
	PerSeconds int `json:"per_seconds"`
}

// throttleName is the Rack::Attack throttle the mock plays.
const throttleName = "throttle_authenticated_api"

// rateLimiter plays GitLab's Rack::Attack throttle_authenticated_api (behaviour spec §1.8): fixed windows
// of period seconds aligned to the Unix epoch, one counter per user, every request counted (throttled ones
// too, so RateLimit-Observed keeps growing past the limit). Its state is guarded by the server mutex and
// each request costs one map update.
type rateLimiter struct {
	limit         int   // requests per window; 0 = off
	period        int64 // window length in seconds
	headersAlways bool  // RateLimit headers on every answer, as GitLab.com's edge has added them
	// now is deliberately real time (time.Now), not the server's settable clock: clients compare
	// RateLimit-Reset and Retry-After with their own clock. Only this package's tests replace it.
	now    func() time.Time
	window int64           // index of the current window: Unix seconds / period
	counts map[int64]int64 // user id -> requests in the current window
}

// SetRateLimit turns on the rate-limit mode: at most requests authenticated API requests per user in
// each fixed window of per (rounded up to whole seconds), after which requests get GitLab's 429 answer
// until the window ends. requests or per of zero or less turn it off. Control endpoints never count.
func (s *Server) SetRateLimit(requests int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setRateLimit(requests, int64((per+time.Second-1)/time.Second))
}

// setRateLimit sets the limit and starts counting afresh. The lock must be held.
func (s *Server) setRateLimit(requests int, perSeconds int64) {
	if requests <= 0 || perSeconds <= 0 {
		requests, perSeconds = 0, 0
	}
	s.rate.limit, s.rate.period = requests, perSeconds
	s.rate.window, s.rate.counts = 0, nil
}

// rateLimitSetting returns the current limit, nil when off. The lock must be held.
func (s *Server) rateLimitSetting() *RateLimit {
	if s.rate.limit == 0 {
		return nil
	}
	return &RateLimit{Requests: s.rate.limit, PerSeconds: int(s.rate.period)}
}

// throttle counts an API request against its user's window, as Rack::Attack does before GitLab sees the
// request: requests without a known token are not counted. It returns the 429 answer when the window is
// used up, or else the headers to add to the answer (nil unless headers are sent always). The lock must
// be held.
func (s *Server) throttle(req *apiRequest) (*response, http.Header) {
	rl := &s.rate
	if rl.limit == 0 {
		return nil, nil
	}
	p := req.params
	if p == nil { // unknown route: the body was not read, the query still may carry the token
		p = params{}
		for k, vs := range req.r.URL.Query() {
			if len(vs) > 0 {
				p[k] = paramValue{str: vs[len(vs)-1]}
			}
		}
	}
	u := s.authenticate(req.r, p)
	if u == nil {
		return nil, nil
	}
	nowFn := rl.now
	if nowFn == nil {
		nowFn = time.Now
	}
	now := nowFn().Unix()
	if w := floorDiv(now, rl.period); w != rl.window || rl.counts == nil {
		rl.window, rl.counts = w, map[int64]int64{}
	}
	rl.counts[u.id]++
	observed := rl.counts[u.id]
	reset := (rl.window + 1) * rl.period
	h := http.Header{}
	h.Set("RateLimit-Name", throttleName)
	// Rack::Attack reports the quota normalised to a minute, rounded up.
	h.Set("RateLimit-Limit", strconv.FormatInt((int64(rl.limit)*60+rl.period-1)/rl.period, 10))
	h.Set("RateLimit-Observed", strconv.FormatInt(observed, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(max(int64(rl.limit)-observed, 0), 10))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset, 10))
	if observed <= int64(rl.limit) {
		// GitLab 18.6's lib/gitlab/middleware/rack_attack_headers.rb adds RateLimit-Name, -Limit,
		// -Observed, -Remaining and -Reset to unthrottled answers (RequestThrottleData#common_response_headers).
		if rl.headersAlways {
			return nil, h
		}
		return nil, nil
	}
	h.Set("RateLimit-ResetTime", time.Unix(reset, 0).UTC().Format(http.TimeFormat))
	h.Set("Retry-After", strconv.FormatInt(reset-now, 10))
	h.Set("Content-Type", "text/plain")
	return &response{status: http.StatusTooManyRequests, header: h, body: []byte("Retry later\n")}, nil
}

// floorDiv divides rounding towards negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// parseRateLimit reads the rate_limit setting: nil when absent, a zero RateLimit for null or zero
// requests (off).
func parseRateLimit(raw json.RawMessage) (*RateLimit, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return &RateLimit{}, nil
	}
	var rl RateLimit
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rl); err != nil {
		return nil, fmt.Errorf(`rate_limit must be {"requests":N,"per_seconds":S} or null: %w`, err)
	}
	switch {
	case rl.Requests < 0:
		return nil, errors.New("rate_limit.requests must not be negative (0 turns the rate limit off)")
	case rl.Requests == 0:
		return &RateLimit{}, nil
	case rl.PerSeconds < 1:
		return nil, errors.New("rate_limit.per_seconds must be at least 1")
	}
	return &rl, nil
}
