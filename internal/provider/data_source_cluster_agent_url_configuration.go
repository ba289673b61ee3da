package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentURLConfigurationDataSource)(nil)

func newClusterAgentURLConfigurationDataSource() datasource.DataSource {
	return &clusterAgentURLConfigurationDataSource{}
}

type clusterAgentURLConfigurationDataSource struct{ dataSourceClient }

type clusterAgentURLConfigurationDataSourceModel struct {
	ID        types.String `tfsdk:"id"`
	Project   types.String `tfsdk:"project"`
	ProjectID types.Int64  `tfsdk:"project_id"`
	urlConfigurationAttributes
}

// urlConfigurationComputedAttributes describes, for the data sources, what
// GitLab tells about a URL configuration (never the client key).
func urlConfigurationComputedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"url": schema.StringAttribute{
			MarkdownDescription: "Where GitLab connects to the agent (`grpcs://…` or `grpc://…`).",
			Computed:            true,
		},
		"ca_cert": schema.StringAttribute{
			MarkdownDescription: "PEM CA certificate(s) GitLab verifies the agent's server certificate with; null " +
				"for the system's CAs. PEM on every GitLab version (GitLab 17.x's Base64 answer is decoded).",
			Computed: true,
		},
		"tls_host": schema.StringAttribute{
			MarkdownDescription: "Server name GitLab expects in the agent's certificate; null for the host of `url`.",
			Computed:            true,
		},
		"client_cert": schema.StringAttribute{
			MarkdownDescription: "PEM client certificate GitLab presents to the agent (mTLS); null with JWT " +
				"authentication. PEM on every GitLab version (GitLab 17.x's Base64 answer is decoded). Its key is " +
				"never returned by GitLab.",
			Computed: true,
		},
		"public_key": schema.StringAttribute{
			MarkdownDescription: "With JWT authentication, the Base64 Ed25519 public key GitLab signs its JWTs " +
				"with; null with mTLS.",
			Computed: true,
		},
		"auth_type": schema.StringAttribute{
			MarkdownDescription: "How GitLab authenticates to the agent: `mtls` or `jwt`.",
			Computed:            true,
		},
	}
}

func (d *clusterAgentURLConfigurationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_url_configuration"
}

func (d *clusterAgentURLConfigurationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attributes := urlConfigurationComputedAttributes()
	attributes["id"] = schema.StringAttribute{
		MarkdownDescription: "`<project_id>:<agent_id>:<url_configuration_id>`, with the numeric project ID.",
		Computed:            true,
	}
	attributes["url_configuration_id"] = schema.Int64Attribute{
		MarkdownDescription: "ID of the URL configuration (the `gitlabagent_cluster_agent_url_configurations` " +
			"data source lists an agent's).",
		Required:   true,
		Validators: []validator.Int64{int64validator.AtLeast(1)},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the URL configuration of a receptive agent: where GitLab connects to the agent " +
			"and how it authenticates (JWT, with GitLab's `public_key`, or mTLS). Never the client key, which GitLab " +
			"does not return. Needs the Maintainer role on the project (GitLab refuses Developers, whatever its " +
			"documentation says), and receptive agents on the instance (GitLab Enterprise Edition 17.4 or later, " +
			"Ultimate, self-managed, with `receptive_cluster_agents_enabled` on); without them, an error names what " +
			"is missing.",
		Attributes: attributes,
	}
	addScopeAttributes(resp.Schema.Attributes, true)
}

func (d *clusterAgentURLConfigurationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentURLConfigurationDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client := d.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	projectID, err := client.ProjectID(ctx, m.Project.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	u, err := client.GetURLConfiguration(ctx, m.Project.ValueString(), m.AgentID.ValueInt64(),
		m.URLConfigurationID.ValueInt64())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	m.urlConfigurationAttributes = urlConfigurationToAttributes(u, urlConfigurationAttributes{})
	m.ProjectID = types.Int64Value(projectID)
	m.ID = types.StringValue(stateID(projectID, u.AgentID, u.ID))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
