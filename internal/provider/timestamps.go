package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// gitlabTimeLayout is how GitLab writes timestamps: ISO 8601 with exactly
// three fractional digits (Rails' JSON time precision) and the zone as sent,
// `Z` for UTC. Formatting a parsed GitLab time with it gives back the very
// text GitLab sent, e.g. "2024-05-01T10:00:41.950Z" (time.RFC3339Nano would
// drop the trailing zero).
const gitlabTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// timeValue renders a GitLab timestamp as GitLab sent it, or null.
func timeValue(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.Format(gitlabTimeLayout))
}
