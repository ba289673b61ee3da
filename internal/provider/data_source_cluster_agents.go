package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentsDataSource)(nil)

func newClusterAgentsDataSource() datasource.DataSource { return &clusterAgentsDataSource{} }

type clusterAgentsDataSource struct{ dataSourceClient }

type clusterAgentsModel struct {
	ID        types.String        `tfsdk:"id"`
	Project   types.String        `tfsdk:"project"`
	ProjectID types.Int64         `tfsdk:"project_id"`
	Agents    []agentElementModel `tfsdk:"cluster_agents"`
}

type agentElementModel struct {
	AgentID         types.Int64        `tfsdk:"agent_id"`
	Name            types.String       `tfsdk:"name"`
	CreatedAt       types.String       `tfsdk:"created_at"`
	CreatedByUserID types.Int64        `tfsdk:"created_by_user_id"`
	IsReceptive     types.Bool         `tfsdk:"is_receptive"`
	ConfigProject   configProjectModel `tfsdk:"config_project"`
}

type configProjectModel struct {
	ID                types.Int64  `tfsdk:"id"`
	Name              types.String `tfsdk:"name"`
	NameWithNamespace types.String `tfsdk:"name_with_namespace"`
	Path              types.String `tfsdk:"path"`
	PathWithNamespace types.String `tfsdk:"path_with_namespace"`
	Description       types.String `tfsdk:"description"`
	CreatedAt         types.String `tfsdk:"created_at"`
}

func (d *clusterAgentsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agents"
}

func (d *clusterAgentsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists every agent for Kubernetes registered in a project (all pages), ordered by name.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The numeric project ID.",
				Computed:            true,
			},
			"cluster_agents": schema.ListNestedAttribute{
				MarkdownDescription: "The project's agents, ordered by name. Named as in the official `gitlab` " +
					"provider's `gitlab_cluster_agents`, so moving over is a change of prefix.",
				Computed: true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"agent_id": schema.Int64Attribute{
							MarkdownDescription: "ID of the agent.", Computed: true,
						},
						"name": schema.StringAttribute{
							MarkdownDescription: "Name of the agent.", Computed: true,
						},
						"created_at": schema.StringAttribute{
							MarkdownDescription: "When the agent was registered (RFC 3339).", Computed: true,
						},
						"created_by_user_id": schema.Int64Attribute{
							MarkdownDescription: "ID of the user who registered the agent; null if deleted.", Computed: true,
						},
						"is_receptive": schema.BoolAttribute{
							MarkdownDescription: "Whether the agent has a URL configuration; null where GitLab does not report it.",
							Computed:            true,
						},
						"config_project": schema.SingleNestedAttribute{
							MarkdownDescription: "The project holding the agent's configuration.",
							Computed:            true,
							Attributes: map[string]schema.Attribute{
								"id":                  schema.Int64Attribute{MarkdownDescription: "Project ID.", Computed: true},
								"name":                schema.StringAttribute{MarkdownDescription: "Project name.", Computed: true},
								"name_with_namespace": schema.StringAttribute{MarkdownDescription: "Project name with its namespace.", Computed: true},
								"path":                schema.StringAttribute{MarkdownDescription: "Project path.", Computed: true},
								"path_with_namespace": schema.StringAttribute{MarkdownDescription: "Full project path.", Computed: true},
								"description":         schema.StringAttribute{MarkdownDescription: "Project description (empty when it has none).", Computed: true},
								"created_at":          schema.StringAttribute{MarkdownDescription: "When the project was created (RFC 3339).", Computed: true},
							},
						},
					},
				},
			},
		},
	}
	addScopeAttributes(resp.Schema.Attributes, false)
}

func (d *clusterAgentsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client := d.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	agents, err := client.ListAgents(ctx, m.Project.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	var projectID int64
	if len(agents) > 0 {
		projectID = agents[0].ConfigProject.ID
	} else if projectID, err = client.ProjectID(ctx, m.Project.ValueString()); err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	m.ProjectID = types.Int64Value(projectID)
	m.ID = types.StringValue(strconv.FormatInt(projectID, 10))
	m.Agents = make([]agentElementModel, 0, len(agents))
	for _, a := range agents {
		m.Agents = append(m.Agents, agentElement(a))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func agentElement(a *gitlab.Agent) agentElementModel {
	cp := a.ConfigProject
	return agentElementModel{
		AgentID:         types.Int64Value(a.ID),
		Name:            types.StringValue(a.Name),
		CreatedAt:       timeValue(a.CreatedAt),
		CreatedByUserID: optionalID(a.CreatedByUserID),
		IsReceptive:     types.BoolPointerValue(a.IsReceptive),
		ConfigProject: configProjectModel{
			ID:                types.Int64Value(cp.ID),
			Name:              types.StringValue(cp.Name),
			NameWithNamespace: types.StringValue(cp.NameWithNamespace),
			Path:              types.StringValue(cp.Path),
			PathWithNamespace: types.StringValue(cp.PathWithNamespace),
			Description:       types.StringValue(cp.Description),
			CreatedAt:         timeValue(cp.CreatedAt),
		},
	}
}
