package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Defaults of the resources' `timeouts` blocks. They bound a whole operation,
// including retries and waits for GitLab's rate limit; each request is also
// bounded by the provider's `request_timeout`.
const (
	defaultCreateTimeout = 20 * time.Minute
	defaultReadTimeout   = 10 * time.Minute
	defaultDeleteTimeout = 20 * time.Minute
)

// timeoutsBlock is the `timeouts { create, read, delete }` block every
// resource has.
func timeoutsBlock(ctx context.Context) schema.Block {
	block := timeouts.Block(ctx, timeouts.Opts{
		Create: true, Read: true, Delete: true,
		CreateDescription: "How long creating may take in all, retries and rate-limit waits included, a Go duration " +
			"such as `\"30m\"`. Default `" + defaultCreateTimeout.String() + "`.",
		ReadDescription: "How long reading (refresh) may take in all, a Go duration. Default `" +
			defaultReadTimeout.String() + "`.",
		DeleteDescription: "How long deleting may take in all, a Go duration. Default `" +
			defaultDeleteTimeout.String() + "`.",
	})
	// Values that cannot work are refused at plan, naming the attribute, not
	// met at apply by an operation that times out before sending anything.
	nested, ok := block.(schema.SingleNestedBlock)
	if !ok {
		return block
	}
	attributes := make(map[string]schema.Attribute, len(nested.Attributes))
	for name, a := range nested.Attributes {
		if s, ok := a.(schema.StringAttribute); ok {
			s.Description += " At least `" + minTimeout.String() + "`."
			s.Validators = []validator.String{timeoutDuration{}}
			a = s
		}
		attributes[name] = a
	}
	nested.Attributes = attributes
	return nested
}

// minTimeout is the shortest operation timeout accepted: anything shorter
// would end the operation before GitLab could answer.
const minTimeout = time.Second

// timeoutDuration validates a `timeouts` value: a Go duration of at least
// minTimeout.
type timeoutDuration struct{}

func (timeoutDuration) Description(context.Context) string {
	return fmt.Sprintf("a Go duration of at least %s, such as \"30m\"", minTimeout)
}

func (v timeoutDuration) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (timeoutDuration) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timeout",
			fmt.Sprintf("`%s` is %q, which is not a duration: write a number with a unit, e.g. \"30s\", \"20m\" "+
				"or \"1h\" (units h, m and s).", req.Path, s))
	case d < minTimeout:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timeout",
			fmt.Sprintf("`%s` is %q: the operation would end before GitLab could answer. Give at least %q, "+
				"or remove it for the default.", req.Path, s, minTimeout.String()))
	}
}

// nullTimeouts is an unset `timeouts` block, for state the provider writes
// without a configuration (moves, list results).
func nullTimeouts() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "read": types.StringType, "delete": types.StringType,
	})}
}

// withTimeout bounds ctx by the operation's configured timeout (or def).
func withTimeout(ctx context.Context, get func(context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	d, ds := get(ctx, def)
	diags.Append(ds...)
	if ds.HasError() {
		d = def
	}
	return context.WithTimeout(ctx, d)
}
