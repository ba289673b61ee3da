package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
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
	return timeouts.Block(ctx, timeouts.Opts{
		Create: true, Read: true, Delete: true,
		CreateDescription: "How long creating may take in all, retries and rate-limit waits included, a Go duration " +
			"such as `\"30m\"`. Default `" + defaultCreateTimeout.String() + "`.",
		ReadDescription: "How long reading (refresh) may take in all, a Go duration. Default `" +
			defaultReadTimeout.String() + "`.",
		DeleteDescription: "How long deleting may take in all, a Go duration. Default `" +
			defaultDeleteTimeout.String() + "`.",
	})
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
