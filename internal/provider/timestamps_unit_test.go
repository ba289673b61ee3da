package provider

import (
	"testing"
	"time"
)

// Formatting a parsed GitLab timestamp gives back GitLab's text, whatever the
// instance's time zone and however many trailing zeros the milliseconds have.
func TestTimeValueIsWhatGitLabSent(t *testing.T) {
	for _, sent := range []string{
		"2024-05-01T10:00:41.950Z",
		"2024-05-01T10:00:41.000Z",
		"2022-04-20T20:42:40.221Z",
		"2024-05-01T12:00:41.900+02:00",
		"2024-05-01T05:30:00.010-04:30",
	} {
		parsed, err := time.Parse(time.RFC3339Nano, sent)
		if err != nil {
			t.Fatal(err)
		}
		if got := timeValue(&parsed).ValueString(); got != sent {
			t.Errorf("GitLab sent %q, the provider keeps %q", sent, got)
		}
	}
	if !timeValue(nil).IsNull() {
		t.Error("a missing timestamp is not null")
	}
}
