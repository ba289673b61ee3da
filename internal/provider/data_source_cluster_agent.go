package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var (
	_ datasource.DataSourceWithConfigure        = (*clusterAgentDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*clusterAgentDataSource)(nil)
)

func newClusterAgentDataSource() datasource.DataSource { return &clusterAgentDataSource{} }

type clusterAgentDataSource struct{ dataSourceClient }

// clusterAgentDataModel is the resource's model plus is_receptive, which only
// the data source has (see the resource's description).
type clusterAgentDataModel struct {
	clusterAgentModel
	IsReceptive types.Bool `tfsdk:"is_receptive"`
}

func (d *clusterAgentDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent"
}

func (d *clusterAgentDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one agent for Kubernetes of a project, by `agent_id` or by `name` (exactly one).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>`, with the numeric project ID.",
				Computed:            true,
			},
			"agent_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the agent to read. Set this or `name`.",
				Optional:            true,
				Computed:            true,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the agent to read. Set this or `agent_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{agentNameValidator{}},
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the agent was registered (RFC 3339).",
				Computed:            true,
			},
			"created_by_user_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the user who registered the agent; null if that user was deleted.",
				Computed:            true,
			},
			"is_receptive": schema.BoolAttribute{
				MarkdownDescription: "Whether the agent has a URL configuration (receptive agent). Null on GitLab " +
					"editions and versions that do not report it (the Community Edition, GitLab before 17.4). To read it " +
					"in the apply that creates the URL configuration, add " +
					"`depends_on = [gitlabagent_cluster_agent_url_configuration.<name>]`.",
				Computed: true,
			},
		},
	}
	addScopeAttributes(resp.Schema.Attributes, false)
}

func (d *clusterAgentDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("agent_id"), path.MatchRoot("name")),
	}
}

func (d *clusterAgentDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client := d.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	project := m.Project.ValueString()
	var agent *gitlab.Agent
	if !m.AgentID.IsNull() {
		var err error
		agent, err = client.GetAgent(ctx, project, m.AgentID.ValueInt64())
		if err != nil {
			addError(&resp.Diagnostics, err)
			return
		}
	} else {
		// Every page is read (the count goes into the error), none kept but the agent.
		count := 0
		err := client.ScanAgents(ctx, project, func(page []gitlab.Agent) bool {
			count += len(page)
			for i := range page {
				if agent == nil && page[i].Name == m.Name.ValueString() {
					a := page[i]
					agent = &a
				}
			}
			return true
		})
		if err != nil {
			addError(&resp.Diagnostics, err)
			return
		}
		if agent == nil {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Agent not found",
				fmt.Sprintf("Project %q has no agent named %q (it has %d agents). Check `name` and `project`.",
					project, m.Name.ValueString(), count))
			return
		}
	}
	agentToModel(agent, &m.clusterAgentModel)
	m.IsReceptive = types.BoolPointerValue(agent.IsReceptive)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
