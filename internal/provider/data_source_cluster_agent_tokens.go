package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentTokensDataSource)(nil)

func newClusterAgentTokensDataSource() datasource.DataSource { return &clusterAgentTokensDataSource{} }

type clusterAgentTokensDataSource struct{ dataSourceClient }

type clusterAgentTokensModel struct {
	ID        types.String           `tfsdk:"id"`
	Project   types.String           `tfsdk:"project"`
	ProjectID types.Int64            `tfsdk:"project_id"`
	AgentID   types.Int64            `tfsdk:"agent_id"`
	Tokens    []agentTokenAttributes `tfsdk:"tokens"`
}

func (d *clusterAgentTokensDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_tokens"
}

func (d *clusterAgentTokensDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	element := agentTokenComputedAttributes()
	element["token_id"] = schema.Int64Attribute{MarkdownDescription: "ID of the token.", Computed: true}
	element["agent_id"] = schema.Int64Attribute{MarkdownDescription: "ID of the agent.", Computed: true}
	element["status"] = schema.StringAttribute{MarkdownDescription: "Status of the token: `active` (the list holds active tokens only).", Computed: true}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the active tokens of an agent for Kubernetes (GitLab allows at most two), in " +
			"GitLab's order: most recently used first, never-used last. Secrets are not included: GitLab shows a " +
			"token's secret only once, when it is created.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>`, with the numeric project ID.",
				Computed:            true,
			},
			"tokens": schema.ListNestedAttribute{
				MarkdownDescription: "The agent's active tokens, most recently used first.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: element,
				},
			},
		},
	}
	addScopeAttributes(resp.Schema.Attributes, true)
}

func (d *clusterAgentTokensDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentTokensModel
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
	tokens, err := client.ActiveAgentTokens(ctx, m.Project.ValueString(), m.AgentID.ValueInt64())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	m.ProjectID = types.Int64Value(projectID)
	m.ID = types.StringValue(stateID(projectID, m.AgentID.ValueInt64()))
	m.Tokens = make([]agentTokenAttributes, 0, len(tokens))
	for _, t := range tokens {
		m.Tokens = append(m.Tokens, agentTokenToAttributes(t, types.StringNull()))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
