package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var (
	_ resource.ResourceWithConfigure   = (*clusterAgentResource)(nil)
	_ resource.ResourceWithImportState = (*clusterAgentResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*clusterAgentResource)(nil)
	_ resource.ResourceWithIdentity    = (*clusterAgentResource)(nil)
)

func newClusterAgentResource() resource.Resource { return &clusterAgentResource{} }

type clusterAgentResource struct{ resourceClient }

type clusterAgentModel struct {
	ID              types.String `tfsdk:"id"`
	Project         types.String `tfsdk:"project"`
	ProjectID       types.Int64  `tfsdk:"project_id"`
	Name            types.String `tfsdk:"name"`
	AgentID         types.Int64  `tfsdk:"agent_id"`
	CreatedAt       types.String `tfsdk:"created_at"`
	CreatedByUserID types.Int64  `tfsdk:"created_by_user_id"`
}

// clusterAgentResourceModel is the resource's model: the agent, as the data
// source has it, and the operations' timeouts.
type clusterAgentResourceModel struct {
	clusterAgentModel
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

func (r *clusterAgentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent"
}

// IdentitySchema names the agent by project_id and agent_id (Terraform 1.12 and later).
func (r *clusterAgentResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identitySchema("agent_id")
}

func (r *clusterAgentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock(ctx)},
		MarkdownDescription: "Registers a GitLab agent for Kubernetes in a project. The agent's configuration lives " +
			"in the project's repository at `.gitlab/agents/<name>/config.yaml`; the cluster connects with a token " +
			"from `gitlabagent_cluster_agent_token`.\n\n" +
			"Deleting the agent also deletes all its tokens and its URL configuration in GitLab, which disconnects " +
			"the cluster. Changing `name` replaces the agent.\n\n" +
			"Whether the agent is receptive is not an attribute of this resource: in one apply the agent is " +
			"registered before its `gitlabagent_cluster_agent_url_configuration`, so a value kept here would be " +
			"stale until the next refresh. An agent is receptive exactly when it has a URL configuration; to read " +
			"GitLab's `is_receptive`, use the `gitlabagent_cluster_agent` data source with `depends_on` on the URL " +
			"configuration, which reads it after the configuration exists, in the same apply.\n\n" +
			"An agent managed by the official `gitlab` provider's `gitlab_cluster_agent` moves here with a `moved` " +
			"block, without any change in GitLab: see the guide \"Moving agents from the gitlab provider\".",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>`, with the numeric project ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project":    projectAttribute(),
			"project_id": projectIDAttribute(),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the agent, unique in the project: lowercase letters, digits and " +
					"`-`, not starting or ending with `-`, at most 63 characters. Changing it replaces the agent " +
					"(and with it every token the cluster uses).",
				Required:      true,
				Validators:    []validator.String{agentNameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"agent_id": schema.Int64Attribute{
				MarkdownDescription: "Numeric ID of the agent.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the agent was registered (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"created_by_user_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the user who registered the agent; null if that user was deleted.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
		},
	}
}

// agentToModel maps GitLab's agent onto the model; project stays as written.
func agentToModel(a *gitlab.Agent, m *clusterAgentModel) {
	m.ProjectID = types.Int64Value(a.ConfigProject.ID)
	m.AgentID = types.Int64Value(a.ID)
	m.ID = types.StringValue(stateID(a.ConfigProject.ID, a.ID))
	m.Name = types.StringValue(a.Name)
	m.CreatedAt = timeValue(a.CreatedAt)
	m.CreatedByUserID = optionalID(a.CreatedByUserID)
}

func (r *clusterAgentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planProjectChange(ctx, req, resp)
}

func (r *clusterAgentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan clusterAgentResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	agent, recovered, err := client.RegisterAgent(ctx, plan.Project.ValueString(), plan.Name.ValueString())
	if err != nil {
		addAgentCreateError(&resp.Diagnostics, err, plan.Project.ValueString(), plan.Name.ValueString())
		return
	}
	if recovered {
		resp.Diagnostics.AddWarning("GitLab's answer was lost; the agent was found",
			fmt.Sprintf("The request registering agent %q got no usable answer, so it was not repeated. The "+
				"project's agents were checked instead: GitLab had registered it as agent %d, which is now in state.",
				agent.Name, agent.ID))
	}
	agentToModel(agent, &plan.clusterAgentModel)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *clusterAgentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State, &req.State)
	var state clusterAgentResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	agent, err := client.GetAgent(ctx, apiProject(state.Project, state.ProjectID), state.AgentID.ValueInt64())
	if gitlab.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Agent no longer exists",
			fmt.Sprintf("Agent %d (%q) of project %q was not found in GitLab, so it is removed from state and the "+
				"next plan registers it again. Its tokens were deleted with it: clusters need a new token.",
				state.AgentID.ValueInt64(), state.Name.ValueString(), state.Project.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	agentToModel(agent, &state.clusterAgentModel)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update only happens when `project` is rewritten for the same project (see
// planProjectChange) or `timeouts` change: nothing changes in GitLab, state
// takes the new values.
func (r *clusterAgentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan, state clusterAgentResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Project = plan.Project
	state.Timeouts = plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *clusterAgentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterAgentResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	if err := client.DeleteAgent(ctx, apiProject(state.Project, state.ProjectID), state.AgentID.ValueInt64()); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState accepts "<project>:<agent_id>"; Read fills in the rest.
func (r *clusterAgentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp, "agent_id")
}

// addAgentCreateError adds a failed registration, with the exact way to
// adopt the agent when GitLab may have registered it (the outcome of the
// request is unknown) or already has one of that name.
func addAgentCreateError(diags *diag.Diagnostics, err error, project, name string) {
	var e *gitlab.Error
	if !errors.As(err, &e) || (!e.OutcomeUnknown && e.ExistingID == 0) {
		addError(diags, err)
		return
	}
	var adopt string
	if e.ExistingID != 0 {
		id := fmt.Sprintf("%s:%d", project, e.ExistingID)
		adopt = fmt.Sprintf("GitLab has agent %q as agent %d in project %q. If it is the one this resource is "+
			"meant to manage (for example registered by an earlier run whose answer was lost), adopt it instead of "+
			"registering it again:\n\n  terraform import <address of this gitlabagent_cluster_agent> '%s'\n\n"+
			"or, with Terraform 1.5 or newer, an import block:\n\n  import {\n    to = <address of this "+
			"gitlabagent_cluster_agent>\n    id = %q\n  }\n\nIf it belongs to something else, give this "+
			"resource another `name`.", name, e.ExistingID, project, id, id)
	} else {
		adopt = fmt.Sprintf("Whether GitLab registered agent %q is unknown. Look for it in project %q "+
			"(Operate > Kubernetes clusters, or GET /projects/:id/cluster_agents). If it is there, adopt it "+
			"instead of registering it again, with its agent ID:\n\n  terraform import <address of this "+
			"gitlabagent_cluster_agent> '%s:<agent_id>'\n\nIf it is not there, run again.", name, project, project)
	}
	diags.AddError(e.Summary, errorDetail(e)+"\n\n"+adopt)
}

// apiProject is the project reference requests use: the numeric ID once
// known, so renames and moves of the project do not matter.
func apiProject(project types.String, projectID types.Int64) string {
	if !projectID.IsNull() && !projectID.IsUnknown() && projectID.ValueInt64() > 0 {
		return strconv.FormatInt(projectID.ValueInt64(), 10)
	}
	return project.ValueString()
}

// optionalID maps GitLab's 0 (JSON null) to a null ID.
func optionalID(id int64) types.Int64 {
	if id == 0 {
		return types.Int64Null()
	}
	return types.Int64Value(id)
}
