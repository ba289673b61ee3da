package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ datasource.DataSourceWithConfigure = (*kasDataSource)(nil)

func newKASDataSource() datasource.DataSource { return &kasDataSource{} }

// kasDataSource tells where GitLab's agent server (KAS) is, from GET /metadata.
type kasDataSource struct{ dataSourceClient }

type kasModel struct {
	ID                  types.String `tfsdk:"id"`
	Enabled             types.Bool   `tfsdk:"enabled"`
	ExternalURL         types.String `tfsdk:"external_url"`
	ExternalK8sProxyURL types.String `tfsdk:"external_k8s_proxy_url"`
	Version             types.String `tfsdk:"version"`
	GitLabVersion       types.String `tfsdk:"gitlab_version"`
	GitLabRevision      types.String `tfsdk:"gitlab_revision"`
	GitLabEnterprise    types.Bool   `tfsdk:"gitlab_enterprise"`
}

func (d *kasDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kas"
}

func (d *kasDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The GitLab agent server (KAS) of the GitLab the provider talks to: whether it is " +
			"enabled, the address agentk connects to (the `config.kasAddress` of the `gitlab-agent` Helm chart), its " +
			"Kubernetes API proxy URL and its version, with GitLab's own version, revision and edition. Read from " +
			"`GET /metadata` (GitLab 15.2 and later), which any user may read with a token that has the `api`, " +
			"`read_api` or `read_user` scope. The provider reads it once per run, however many data sources and " +
			"resources need it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The GitLab API URL the values come from.",
				Computed:            true,
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether KAS is enabled on this GitLab. When it is not, every other KAS attribute is null " +
					"and no agent can connect.",
				Computed: true,
			},
			"external_url": schema.StringAttribute{
				MarkdownDescription: "The address agentk connects to, for the `config.kasAddress` value of the " +
					"`gitlab-agent` Helm chart: `wss://kas.gitlab.com` on GitLab.com, " +
					"`wss://gitlab.example.com/-/kubernetes-agent/` for a Linux package install with the default " +
					"settings, `grpc://…:8150` for a KAS reached directly. Null while KAS is disabled.",
				Computed: true,
			},
			"external_k8s_proxy_url": schema.StringAttribute{
				MarkdownDescription: "The URL of KAS's Kubernetes API proxy, which gives access to a cluster through " +
					"its agent (e.g. `https://kas.gitlab.com/k8s-proxy`). GitLab sends it from 17.6; before that it " +
					"is derived from `external_url` as GitLab derives it (`k8s-proxy` under it, with `https` for " +
					"`wss` and `grpcs`, `http` otherwise). Null while KAS is disabled.",
				Computed: true,
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "The version of KAS. Null while KAS is disabled, and when GitLab could not reach " +
					"KAS to ask it.",
				Computed: true,
			},
			"gitlab_version": schema.StringAttribute{
				MarkdownDescription: "GitLab's version, e.g. `18.1.1-ee` (`-ee` on the Enterprise Edition).",
				Computed:            true,
			},
			"gitlab_revision": schema.StringAttribute{
				MarkdownDescription: "The commit GitLab was built from (short SHA).",
				Computed:            true,
			},
			"gitlab_enterprise": schema.BoolAttribute{
				MarkdownDescription: "Whether GitLab runs the Enterprise Edition codebase (true even without a " +
					"licence). GitLab sends it from 15.6; before that it is read from the `-ee` suffix of the version.",
				Computed: true,
			},
		},
	}
}

func (d *kasDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	client := d.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	meta, err := client.Metadata(ctx)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, kasToModel(client.BaseURL(), meta))...)
}

// kasToModel maps GET /metadata to the data source's state, null where GitLab sent null.
func kasToModel(baseURL string, meta gitlab.Metadata) kasModel {
	enterprise := types.BoolPointerValue(meta.Enterprise)
	if meta.Enterprise == nil {
		enterprise = types.BoolValue(strings.HasSuffix(meta.Version, "-ee"))
	}
	return kasModel{
		ID:                  types.StringValue(baseURL),
		Enabled:             types.BoolValue(meta.KAS.Enabled),
		ExternalURL:         types.StringPointerValue(meta.KAS.ExternalURL),
		ExternalK8sProxyURL: types.StringPointerValue(meta.KAS.ExternalK8sProxyURL),
		Version:             types.StringPointerValue(meta.KAS.Version),
		GitLabVersion:       types.StringValue(meta.Version),
		GitLabRevision:      types.StringValue(meta.Revision),
		GitLabEnterprise:    enterprise,
	}
}
