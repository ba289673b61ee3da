package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// providerData is what the provider hands to every resource and data source.
type providerData struct {
	client *gitlab.Client
	// unknown lists provider attributes whose values are not known yet.
	unknown []string
	// now is the clock token rotation reads.
	now func() time.Time
	// openTokens are the Kubernetes access tokens opened and not closed yet.
	openTokens *openTokens
}

// clock returns the provider's clock, or time.Now before configuration.
func (g *gitlabClient) clock() time.Time {
	if g.data == nil || g.data.now == nil {
		return time.Now()
	}
	return g.data.now()
}

// providerDataFrom checks the value the framework passes to Configure. It is
// nil while Terraform validates configuration, before the provider is configured.
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return pd
}

// gitlabClient is embedded by every resource and data source: it keeps the
// provider data and hands out the client when a request must be made.
type gitlabClient struct {
	data *providerData
}

// client returns the GitLab client or adds an error saying why there is none.
func (g *gitlabClient) client(diags *diag.Diagnostics) *gitlab.Client {
	switch {
	case g.data == nil:
		diags.AddError("Provider not configured",
			"The gitlabagent provider has not been configured. This is a bug in the provider; please report it.")
		return nil
	case g.data.client == nil:
		diags.AddError("Provider configuration not known yet",
			fmt.Sprintf("The gitlabagent provider's %s depend on values known only after apply, so it cannot "+
				"talk to GitLab yet. Apply the resources those values come from first (terraform apply -target=…), "+
				"or configure the provider from values known at plan time.", strings.Join(g.data.unknown, ", ")))
		return nil
	}
	return g.data.client
}

// resourceClient is embedded by resources.
type resourceClient struct{ gitlabClient }

func (r *resourceClient) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// dataSourceClient is embedded by data sources.
type dataSourceClient struct{ gitlabClient }

func (d *dataSourceClient) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ephemeralResourceClient is embedded by ephemeral resources.
type ephemeralResourceClient struct{ gitlabClient }

func (e *ephemeralResourceClient) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// addError adds a GitLab error as a diagnostic: its summary and its
// explanation of what happened and what to do.
func addError(diags *diag.Diagnostics, err error) {
	var e *gitlab.Error
	if errors.As(err, &e) {
		diags.AddError(e.Summary, errorDetail(e))
		return
	}
	diags.AddError("GitLab request failed", err.Error())
}
