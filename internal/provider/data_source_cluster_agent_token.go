package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentTokenDataSource)(nil)

func newClusterAgentTokenDataSource() datasource.DataSource { return &clusterAgentTokenDataSource{} }

type clusterAgentTokenDataSource struct{ dataSourceClient }

type clusterAgentTokenDataSourceModel struct {
	ID        types.String `tfsdk:"id"`
	Project   types.String `tfsdk:"project"`
	ProjectID types.Int64  `tfsdk:"project_id"`
	agentTokenAttributes
}

func (d *clusterAgentTokenDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_token"
}

func (d *clusterAgentTokenDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one token of an agent for Kubernetes: its name, status and when it was " +
			"created and last used. Not its secret, which GitLab shows only once, when the token is created.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>:<token_id>`, with the numeric project ID.",
				Computed:            true,
			},
			"token_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the token. GitLab answers 404 for a revoked token.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
		},
	}
	maps.Copy(resp.Schema.Attributes, agentTokenComputedAttributes())
	addScopeAttributes(resp.Schema.Attributes, true)
}

// agentTokenComputedAttributes describes, for the data sources, what GitLab
// tells about a token (never its secret).
func agentTokenComputedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"name":               schema.StringAttribute{MarkdownDescription: "Name of the token.", Computed: true},
		"description":        schema.StringAttribute{MarkdownDescription: "Description of the token; null if it has none.", Computed: true},
		"status":             schema.StringAttribute{MarkdownDescription: "Status of the token: `active` (or `revoked`, on GitLab before 16.0).", Computed: true},
		"created_at":         schema.StringAttribute{MarkdownDescription: "When the token was created (RFC 3339).", Computed: true},
		"created_by_user_id": schema.Int64Attribute{MarkdownDescription: "ID of the user who created the token; null if that user was deleted.", Computed: true},
		"last_used_at":       schema.StringAttribute{MarkdownDescription: "When an agent last connected with the token (RFC 3339); null if never.", Computed: true},
	}
}

func (d *clusterAgentTokenDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentTokenDataSourceModel
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
	token, err := client.GetAgentToken(ctx, m.Project.ValueString(), m.AgentID.ValueInt64(), m.TokenID.ValueInt64())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	m.agentTokenAttributes = agentTokenToAttributes(token, types.StringNull())
	m.ProjectID = types.Int64Value(projectID)
	m.ID = types.StringValue(stateID(projectID, token.AgentID, token.ID))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
