package gitlab

import (
	"net/http"
	"testing"
	"time"
)

func TestSlotAtOrAfter(t *testing.T) {
	t.Parallel()
	at := func(sec int64, ms int64) time.Time { return time.Unix(sec, ms*int64(time.Millisecond)) }
	cases := []struct {
		t, want  time.Time
		interval time.Duration
	}{
		{at(12, 0), at(12, 50), 100 * time.Millisecond},
		{at(12, 50), at(12, 50), 100 * time.Millisecond},
		{at(12, 51), at(12, 150), 100 * time.Millisecond},
		{at(12, 999), at(13, 50), 100 * time.Millisecond},
		{at(60, 0), at(60, 250), 500 * time.Millisecond},
	}
	for _, c := range cases {
		if got := slotAtOrAfter(c.t, c.interval); !got.Equal(c.want) {
			t.Errorf("slotAtOrAfter(%v, %v) = %v, want %v", c.t.UnixMilli(), c.interval, got.UnixMilli(), c.want.UnixMilli())
		}
	}
}

// Paced at GitLab's announced rate, each of GitLab's fixed windows gets
// exactly its quota: nothing above (no 429) and nothing below (no time lost).
func TestPacedSlotsFillEachWindowExactly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		quota  int   // requests per window
		period int64 // window, seconds
	}{{10, 1}, {3, 1}, {600, 60}, {7200, 3600}, {5, 2}} {
		perMinute := float64(c.quota) * 60 / float64(c.period)
		interval := time.Duration(float64(time.Minute) / perMinute)
		perWindow := map[int64]int{}
		next := time.Unix(1_700_000_000, 123_456_789)
		for range c.quota * 5 {
			slot := slotAtOrAfter(next, interval)
			perWindow[slot.Unix()/c.period]++
			next = slot.Add(interval)
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

func throttled(limit string) *http.Response {
	return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{
		"Ratelimit-Limit": {limit}, "Retry-After": {"1"},
	}}
}

// The first 429 sets the pace to the announced rate; 429s of requests sent
// before that (in flight together) change nothing; a 429 of a request sent
// while pacing slows the pace, down to half the rate at most.
func TestThrottlePaceSlowsOnlyWhenPacedRequestsAreRefused(t *testing.T) {
	t.Parallel()
	th := &throttle{}
	before := time.Now()
	th.observe(throttled("600"), before, time.Now(), 0)
	if th.interval != 100*time.Millisecond {
		t.Fatalf("interval %v after the first 429 at 600/min, want 100ms", th.interval)
	}
	th.observe(throttled("600"), before, time.Now(), 0)
	if th.interval != 100*time.Millisecond {
		t.Fatalf("interval %v after a 429 of a request sent before pacing, want 100ms", th.interval)
	}
	th.observe(throttled("600"), time.Now(), time.Now(), 0)
	share := slowerShare
	if want := time.Duration(float64(time.Minute) / (600 * share)); th.interval != want {
		t.Fatalf("interval %v after a paced request's 429, want %v", th.interval, want)
	}
	for range 100 {
		th.observe(throttled("600"), time.Now(), time.Now(), 0)
	}
	if th.interval != 200*time.Millisecond {
		t.Fatalf("interval %v after many refusals, want 200ms (half the rate)", th.interval)
	}
	th.observe(throttled("1200"), time.Now(), time.Now(), 0)
	if th.interval != 50*time.Millisecond {
		t.Fatalf("interval %v after GitLab announced 1200/min, want 50ms", th.interval)
	}
}
