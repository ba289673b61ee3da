package gitlab

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxWait bounds a single wait between attempts, whatever GitLab asks for.
const maxWait = 2 * time.Minute

// backoff decides how long to wait before the next attempt: client-go's retry
// loop asks it after a 5xx or a dropped connection (which requests are
// retried at all is checkRetry's decision), and transport's throttle after a
// 429, for every request of the process.
//
// On 429 it waits for Retry-After (seconds or an HTTP date) or else until
// RateLimit-Reset (absolute Unix seconds), at least minRateLimitWait, and backs off
// exponentially from minWait with jitter when GitLab sent neither. Other
// failures back off linearly with jitter.
func backoff(minWait, _ time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		if wait, ok := rateLimitWait(resp.Header, time.Now()); ok {
			// A reset already past by this clock still waits a little.
			return capWait(max(wait, minRateLimitWait) + jitter(300*time.Millisecond))
		}
		exp := float64(minWait) * math.Pow(2, float64(attempt))
		if exp >= float64(maxWait) {
			// Also keeps a large attempt number from overflowing a Duration.
			return maxWait
		}
		d := time.Duration(exp)
		return capWait(d + jitter(d/2+time.Millisecond))
	}
	return retryablehttp.LinearJitterBackoff(700*time.Millisecond, 900*time.Millisecond, attempt, resp)
}

// rateLimitWait reads how long GitLab asked the client to wait, at most
// maxWait. Retry-After (relative, immune to clock skew) wins over
// RateLimit-Reset (absolute Unix seconds, compared with the local clock).
func rateLimitWait(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return min(time.Duration(secs), maxWait/time.Second) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return capWait(max(at.Sub(now), 0)), true
		}
	}
	if v := h.Get("RateLimit-Reset"); v != "" {
		if reset, err := strconv.ParseInt(v, 10, 64); err == nil && reset > 0 {
			if reset-now.Unix() > int64(maxWait/time.Second) {
				return maxWait, true // also where time.Unix would overflow
			}
			return max(time.Unix(reset, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

func jitter(upTo time.Duration) time.Duration {
	if upTo <= 0 {
		return 0
	}
	return rand.N(upTo) //nolint:gosec // jitter needs no cryptographic randomness
}

func capWait(d time.Duration) time.Duration { return min(d, maxWait) }
