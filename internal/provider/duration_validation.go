package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// parsePositiveDuration parses a Go duration ("720h", "90m") that must be
// greater than zero, with an error saying how to write one.
func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write it as a number with a unit, e.g. \"720h\" (30 days) "+
			"or \"90m\"; units are h, m and s (there is no unit for days: 30 days is \"720h\")", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not longer than zero: give a positive duration, e.g. \"720h\" (30 days)", s)
	}
	return d, nil
}

type positiveDurationValidator struct{}

// positiveDuration validates a Go duration string greater than zero.
func positiveDuration() validator.String { return positiveDurationValidator{} }

func (positiveDurationValidator) Description(context.Context) string {
	return `a positive Go duration such as "720h" or "90m"`
}

func (v positiveDurationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (positiveDurationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parsePositiveDuration(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", err.Error())
	}
}
