package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentURLConfigurationsDataSource)(nil)

func newClusterAgentURLConfigurationsDataSource() datasource.DataSource {
	return &clusterAgentURLConfigurationsDataSource{}
}

type clusterAgentURLConfigurationsDataSource struct{ dataSourceClient }

type clusterAgentURLConfigurationsModel struct {
	ID                types.String                 `tfsdk:"id"`
	Project           types.String                 `tfsdk:"project"`
	ProjectID         types.Int64                  `tfsdk:"project_id"`
	AgentID           types.Int64                  `tfsdk:"agent_id"`
	URLConfigurations []urlConfigurationAttributes `tfsdk:"url_configurations"`
}

func (d *clusterAgentURLConfigurationsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_url_configurations"
}

func (d *clusterAgentURLConfigurationsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	element := urlConfigurationComputedAttributes()
	element["url_configuration_id"] = schema.Int64Attribute{
		MarkdownDescription: "ID of the URL configuration.",
		Computed:            true,
	}
	element["agent_id"] = schema.Int64Attribute{
		MarkdownDescription: "ID of the agent.",
		Computed:            true,
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the URL configurations of an agent: none, or the one that makes it receptive " +
			"(GitLab allows one per agent). Never client keys, which GitLab does not return. Needs the Maintainer " +
			"role on the project, and receptive agents on the instance (GitLab Enterprise Edition 17.4 or later, " +
			"Ultimate, self-managed, with `receptive_cluster_agents_enabled` on); without them, an error names what " +
			"is missing.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>`, with the numeric project ID.",
				Computed:            true,
			},
			"url_configurations": schema.ListNestedAttribute{
				MarkdownDescription: "The agent's URL configurations: empty, or one.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: element},
			},
		},
	}
	addScopeAttributes(resp.Schema.Attributes, true)
}

func (d *clusterAgentURLConfigurationsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterAgentURLConfigurationsModel
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
	list, err := client.ListURLConfigurations(ctx, m.Project.ValueString(), m.AgentID.ValueInt64())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	m.ProjectID = types.Int64Value(projectID)
	m.ID = types.StringValue(stateID(projectID, m.AgentID.ValueInt64()))
	m.URLConfigurations = make([]urlConfigurationAttributes, 0, len(list))
	for _, u := range list {
		m.URLConfigurations = append(m.URLConfigurations, urlConfigurationToAttributes(u, urlConfigurationAttributes{}))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
