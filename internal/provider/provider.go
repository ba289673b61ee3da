// Package provider is the Terraform face of the gitlabagent provider.
package provider

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var (
	_ provider.Provider                       = (*gitlabAgentProvider)(nil)
	_ provider.ProviderWithListResources      = (*gitlabAgentProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*gitlabAgentProvider)(nil)
)

// New returns a function that builds the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return NewWithClock(version, time.Now)
}

// NewWithClock is New with the clock that token rotation reads, so that
// tests can move time.
func NewWithClock(version string, now func() time.Time) func() provider.Provider {
	return func() provider.Provider {
		return &gitlabAgentProvider{version: version, now: now, openTokens: &openTokens{}}
	}
}

type gitlabAgentProvider struct {
	version string
	now     func() time.Time
	// openTokens are the Kubernetes access tokens opened and not closed yet (see Shutdown).
	openTokens *openTokens
}

type providerModel struct {
	BaseURL        types.String `tfsdk:"base_url"`
	Token          types.String `tfsdk:"token"`
	CACertFile     types.String `tfsdk:"cacert_file"`
	CACert         types.String `tfsdk:"ca_cert"`
	Insecure       types.Bool   `tfsdk:"insecure"`
	ClientCert     types.String `tfsdk:"client_cert"`
	ClientKey      types.String `tfsdk:"client_key"`
	Retries        types.Int64  `tfsdk:"retries"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	EarlyAuthCheck types.Bool   `tfsdk:"early_auth_check"`
}

func (p *gitlabAgentProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "gitlabagent"
	resp.Version = p.version
}

func (p *gitlabAgentProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages GitLab agents for Kubernetes, their tokens and receptive-agent URL configurations " +
			"through GitLab's REST API.",
		Attributes: map[string]schema.Attribute{
			"base_url": schema.StringAttribute{
				MarkdownDescription: "GitLab API URL, with or without the trailing `/api/v4`, e.g. " +
					"`https://gitlab.example.com`. Defaults to the `GITLAB_BASE_URL` environment variable, then to " +
					"`" + gitlab.DefaultBaseURL + "`.",
				Optional:   true,
				Validators: []validator.String{baseURL()},
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "GitLab access token with the `api` scope (personal, project, group or OAuth " +
					"access token); `read_api` is enough for plans, data sources and `terraform query`. Defaults to " +
					"the `GITLAB_TOKEN` environment variable. Writes need the Maintainer role on the project, reads " +
					"of agents and tokens the Developer role, reads of URL configurations the Maintainer role. Never logged. White space around it (such as " +
					"the newline `file(\"token.txt\")` keeps) is ignored.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{apiToken()},
			},
			"cacert_file": schema.StringAttribute{
				MarkdownDescription: "Path to a PEM file of CA certificates to trust, in addition to the system's, " +
					"for a self-managed GitLab with a private CA.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"ca_cert": schema.StringAttribute{
				MarkdownDescription: "Inline PEM CA certificates to trust, in addition to the system's. An unparsable " +
					"PEM is an error.",
				Optional:   true,
				Validators: []validator.String{pemCertificates()},
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip verification of GitLab's TLS certificate. For tests only. Default `false`.",
				Optional:            true,
			},
			"client_cert": schema.StringAttribute{
				MarkdownDescription: "Client certificate for mutual TLS to the GitLab API: a path to a PEM file or " +
					"inline PEM. Requires `client_key`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("client_key"))},
			},
			"client_key": schema.StringAttribute{
				MarkdownDescription: "Private key of `client_cert`: a path to a PEM file or inline PEM. Sensitive. " +
					"Requires `client_cert`.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("client_cert"))},
			},
			"retries": schema.Int64Attribute{
				MarkdownDescription: "How many times a request is retried after a server error or a dropped " +
					"connection: reads and deletes only, a create is never repeated blindly. Default `5`; `0` " +
					"disables retries. A `429 Too Many Requests` is not counted: the provider waits as GitLab asks " +
					"(`Retry-After`, else `RateLimit-Reset`), for 10 minutes at most after a request's first 429, " +
					"and once GitLab shows its window used up, paces every request of the run at GitLab's announced " +
					"rate; with `0` it is not waited out either.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 20)},
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "How long one attempt of one request may take, from sending it to the end of " +
					"GitLab's answer, a Go duration such as `\"30s\"` or `\"2m\"`, between 1s and 1h. Default `\"" +
					gitlab.DefaultRequestTimeout.String() + "\"`. A request that times out is not repeated and fails " +
					"with an error naming it. The resources' `timeouts` blocks bound whole operations.",
				Optional:   true,
				Validators: []validator.String{durationBetween(time.Second, time.Hour)},
			},
			"early_auth_check": schema.BoolAttribute{
				MarkdownDescription: "Check the token against GitLab when the provider is configured, so a bad " +
					"token fails fast. Default `false`: no request is made until a resource or data source needs one.",
				Optional: true,
			},
		},
	}
}

func (p *gitlabAgentProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// Values unknown until apply (e.g. a token created by another resource):
	// hand out a client that explains the situation when, and only when, a
	// request is needed.
	if unknown := unknownAttributes(cfg); len(unknown) > 0 {
		tflog.Debug(ctx, "provider configuration not known yet", map[string]any{"attributes": unknown})
		p.handOut(resp, &providerData{unknown: unknown, now: p.now, openTokens: p.openTokens})
		return
	}

	baseURLValue, fromEnv := settingOr(cfg.BaseURL, "GITLAB_BASE_URL", gitlab.DefaultBaseURL)
	if _, err := gitlab.NormalizeBaseURL(baseURLValue); err != nil {
		detail := err.Error()
		if fromEnv {
			detail = "The value comes from the GITLAB_BASE_URL environment variable: " + detail + ". Fix or unset " +
				"GITLAB_BASE_URL, or set `base_url` in the provider block."
		}
		resp.Diagnostics.AddAttributeError(path.Root("base_url"), "Invalid GitLab URL", detail)
		return
	}
	// White space around the token (the newline file() keeps) is not part of it.
	token, tokenFromEnv := settingOr(types.StringValue(strings.TrimSpace(cfg.Token.ValueString())), "GITLAB_TOKEN", "")
	token = strings.TrimSpace(token)
	if problem := apiTokenProblem(token); problem != "" {
		if tokenFromEnv {
			problem = "The value comes from the GITLAB_TOKEN environment variable: " + problem
		}
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Invalid GitLab token", problem)
		return
	}
	conf := gitlab.Config{
		BaseURL:    baseURLValue,
		Token:      token,
		CACertFile: cfg.CACertFile.ValueString(),
		CACert:     cfg.CACert.ValueString(),
		Insecure:   cfg.Insecure.ValueBool(),
		ClientCert: cfg.ClientCert.ValueString(),
		ClientKey:  cfg.ClientKey.ValueString(),
		Retries:    gitlab.DefaultRetries,
		UserAgent:  "terraform-provider-gitlabagent/" + p.version,
	}
	if !cfg.Retries.IsNull() {
		conf.Retries = int(cfg.Retries.ValueInt64())
	}
	if !cfg.RequestTimeout.IsNull() {
		// Checked by the attribute's validator.
		conf.RequestTimeout, _ = time.ParseDuration(cfg.RequestTimeout.ValueString())
	}
	if conf.Token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing GitLab token",
			"The provider needs a GitLab access token with the `api` scope. Set `token` in the provider block "+
				"(from a variable marked sensitive) or the GITLAB_TOKEN environment variable.")
		return
	}
	client, err := gitlab.New(conf)
	if err != nil {
		addConfigError(&resp.Diagnostics, err)
		return
	}
	if cfg.EarlyAuthCheck.ValueBool() {
		if err := client.CheckAuth(ctx); err != nil {
			addError(&resp.Diagnostics, err)
			return
		}
	}
	p.handOut(resp, &providerData{client: client, now: p.now, openTokens: p.openTokens})
}

// handOut gives data to every resource, data source, list resource and ephemeral resource.
func (p *gitlabAgentProvider) handOut(resp *provider.ConfigureResponse, data *providerData) {
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ListResourceData = data
	resp.EphemeralResourceData = data
}

func (p *gitlabAgentProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newClusterAgentResource,
		newClusterAgentConfigResource,
		newClusterAgentTokenResource,
		// tokens: registered here
		newClusterAgentURLConfigurationResource,
		// url configurations: registered here
	}
}

func (p *gitlabAgentProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newClusterAgentDataSource,
		newClusterAgentsDataSource,
		newClusterAgentTokenDataSource,
		newClusterAgentTokensDataSource,
		// tokens: registered here
		newClusterAgentURLConfigurationDataSource,
		newClusterAgentURLConfigurationsDataSource,
		// url configurations: registered here
		newKASDataSource,
		newClusterAgentConnectionsDataSource,
	}
}

// EphemeralResources are opened and closed within one Terraform run (Terraform 1.10 and later,
// OpenTofu 1.11 and later); nothing of them reaches state or plan files.
func (p *gitlabAgentProvider) EphemeralResources(_ context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		newClusterAgentKubernetesAccess,
	}
}

// ListResources are found by `terraform query` (Terraform 1.14 and later).
func (p *gitlabAgentProvider) ListResources(_ context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		newClusterAgentListResource,
		newClusterAgentTokenListResource,
		newClusterAgentURLConfigurationListResource,
	}
}

func unknownAttributes(cfg providerModel) []string {
	var unknown []string
	for name, v := range map[string]interface{ IsUnknown() bool }{
		"base_url": cfg.BaseURL, "token": cfg.Token, "cacert_file": cfg.CACertFile, "ca_cert": cfg.CACert,
		"insecure": cfg.Insecure, "client_cert": cfg.ClientCert, "client_key": cfg.ClientKey,
		"retries": cfg.Retries, "request_timeout": cfg.RequestTimeout, "early_auth_check": cfg.EarlyAuthCheck,
	} {
		if v.IsUnknown() {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	return unknown
}

// settingOr returns the configured value, else the environment variable's
// (with fromEnv set), else def.
func settingOr(v types.String, envVar, def string) (value string, fromEnv bool) {
	if s := v.ValueString(); s != "" {
		return s, false
	}
	if s := os.Getenv(envVar); s != "" {
		return s, true
	}
	return def, false
}
