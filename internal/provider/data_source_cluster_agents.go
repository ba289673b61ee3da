package provider

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ datasource.DataSourceWithConfigure = (*clusterAgentsDataSource)(nil)

func newClusterAgentsDataSource() datasource.DataSource { return &clusterAgentsDataSource{} }

type clusterAgentsDataSource struct{ dataSourceClient }

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

// Read builds the state page by page as GitLab's pages arrive, keeping of
// each page only the Terraform values it becomes: a project may have
// thousands of agents. The values are built as tftypes values of the
// schema's own types, not through the framework's reflection or attr.Value
// layer, each of which converts every element again and costs several times
// the time and memory (see docs/benchmarks.md).
func (d *clusterAgentsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var project types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("project"), &project)...)
	client := d.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	shape, ok := agentListShapeOf(resp.State.Schema.Type().TerraformType(ctx))
	if !ok {
		resp.Diagnostics.AddError("Unexpected schema", "The schema of gitlabagent_cluster_agents is not the one "+
			"its Read expects. This is a bug in the provider; please report it.")
		return
	}
	elements, projectID, ok := readAgentList(ctx, client, project.ValueString(), shape, &resp.Diagnostics)
	if !ok {
		return
	}
	state, err := tfValue(shape.state, map[string]tftypes.Value{
		"id":             tftypes.NewValue(tftypes.String, strconv.FormatInt(projectID, 10)),
		"project":        tftypes.NewValue(tftypes.String, project.ValueString()),
		"project_id":     tftypes.NewValue(tftypes.Number, projectID),
		"cluster_agents": tftypes.NewValue(shape.agents, elements),
	})
	if err != nil {
		resp.Diagnostics.AddError("Building the list of agents failed",
			fmt.Sprintf("This is a bug in the provider; please report it: %v", err))
		return
	}
	resp.State.Raw = state
}

// agentListShape is the Terraform types of gitlabagent_cluster_agents' state.
type agentListShape struct {
	state, element, configProject tftypes.Object
	agents                        tftypes.List
}

// agentListShapeOf finds the types readAgentList builds in a state type,
// and reports whether they are all there.
func agentListShapeOf(stateType tftypes.Type) (agentListShape, bool) {
	state, ok := stateType.(tftypes.Object)
	agents, ok2 := state.AttributeTypes["cluster_agents"].(tftypes.List)
	element, ok3 := agents.ElementType.(tftypes.Object)
	configProject, ok4 := element.AttributeTypes["config_project"].(tftypes.Object)
	return agentListShape{state: state, element: element, configProject: configProject, agents: agents},
		ok && ok2 && ok3 && ok4
}

// readAgentList reads every agent of project and returns their values in
// GitLab's order and the project's numeric ID. It adds an error to diags and
// returns false when GitLab fails.
func readAgentList(ctx context.Context, client *gitlab.Client, project string, shape agentListShape,
	diags *diag.Diagnostics) ([]tftypes.Value, int64, bool) {
	var (
		elements  []tftypes.Value
		projectID int64
		projects  configProjects
		buildErr  error
	)
	err := client.ScanAgents(ctx, project, func(page []gitlab.Agent) bool {
		for i := range page {
			a := &page[i]
			projectID = a.ConfigProject.ID
			cp, err := projects.value(shape.configProject, a.ConfigProject)
			if err != nil {
				buildErr = err
				return false
			}
			el, err := tfValue(shape.element, map[string]tftypes.Value{
				"agent_id":           tftypes.NewValue(tftypes.Number, a.ID),
				"name":               tftypes.NewValue(tftypes.String, a.Name),
				"created_at":         timeTFValue(a.CreatedAt),
				"created_by_user_id": optionalIDTFValue(a.CreatedByUserID),
				"is_receptive":       tftypes.NewValue(tftypes.Bool, boolOrNil(a.IsReceptive)),
				"config_project":     cp,
			})
			if err != nil {
				buildErr = err
				return false
			}
			elements = append(elements, el)
		}
		return true
	})
	if err != nil {
		addError(diags, err)
		return nil, 0, false
	}
	if buildErr != nil {
		diags.AddError("Building the list of agents failed",
			fmt.Sprintf("This is a bug in the provider; please report it: %v", buildErr))
		return nil, 0, false
	}
	if len(elements) == 0 {
		if projectID, err = client.ProjectID(ctx, project); err != nil {
			addError(diags, err)
			return nil, 0, false
		}
	}
	return elements, projectID, true
}

// configProjects builds the config_project value of each agent. All agents
// of a project have the same one, so the value built for the previous agent
// is used again (values are immutable) when the project is the same.
type configProjects struct {
	last  *gl.ConfigProject
	built tftypes.Value
}

func (c *configProjects) value(typ tftypes.Object, p gl.ConfigProject) (tftypes.Value, error) {
	if c.last != nil && sameConfigProject(*c.last, p) {
		return c.built, nil
	}
	v, err := tfValue(typ, map[string]tftypes.Value{
		"id":                  tftypes.NewValue(tftypes.Number, p.ID),
		"name":                tftypes.NewValue(tftypes.String, p.Name),
		"name_with_namespace": tftypes.NewValue(tftypes.String, p.NameWithNamespace),
		"path":                tftypes.NewValue(tftypes.String, p.Path),
		"path_with_namespace": tftypes.NewValue(tftypes.String, p.PathWithNamespace),
		"description":         tftypes.NewValue(tftypes.String, p.Description),
		"created_at":          timeTFValue(p.CreatedAt),
	})
	c.last, c.built = &p, v
	return v, err
}

func sameConfigProject(a, b gl.ConfigProject) bool {
	sameTime := a.CreatedAt == nil && b.CreatedAt == nil ||
		a.CreatedAt != nil && b.CreatedAt != nil && a.CreatedAt.Equal(*b.CreatedAt)
	return sameTime && a.ID == b.ID && a.Name == b.Name && a.NameWithNamespace == b.NameWithNamespace &&
		a.Path == b.Path && a.PathWithNamespace == b.PathWithNamespace && a.Description == b.Description
}

// tfValue is tftypes.NewValue returning, rather than panicking with, the
// error of a value that does not fit its type.
func tfValue(typ tftypes.Type, v any) (value tftypes.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return tftypes.NewValue(typ, v), nil
}

// timeTFValue is timeValue as a tftypes value.
func timeTFValue(t *time.Time) tftypes.Value {
	if t == nil {
		return tftypes.NewValue(tftypes.String, nil)
	}
	return tftypes.NewValue(tftypes.String, timeValue(t).ValueString())
}

// optionalIDTFValue is optionalID as a tftypes value.
func optionalIDTFValue(id int64) tftypes.Value {
	if id == 0 {
		return tftypes.NewValue(tftypes.Number, nil)
	}
	return tftypes.NewValue(tftypes.Number, id)
}

func boolOrNil(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
