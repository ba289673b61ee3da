package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// projectAttribute is the `project` input of every resource. Changing it to
// another way of writing the same project (numeric ID ↔ full path, or the new
// path after a rename) updates state in place; moving to another project
// replaces the resource. planProjectChange decides which.
func projectAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "The agent's project: its numeric ID or its full path (`group/subgroup/project`), as " +
			"you prefer. Writing the same project the other way, or its new path after a rename, changes nothing " +
			"in GitLab and replaces nothing; pointing at another project replaces this resource.",
		Required:   true,
		Validators: []validator.String{projectValidator{}},
	}
}

// projectIDAttribute is the computed numeric project ID; every request after
// create uses it, so renaming or moving the project breaks nothing.
func projectIDAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		MarkdownDescription: "Numeric ID of the project, resolved by GitLab.",
		Computed:            true,
		PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
	}
}

// planProjectChange compares the planned `project` with the one in state.
// When they are written differently it resolves the planned one: the same
// project keeps the resource (an in-place update of state only); another
// project requires replacement. It makes a request only when the planned
// value is a path that differs from state.
func (g *gitlabClient) planProjectChange(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var stateProject, planProject types.String
	var stateProjectID types.Int64
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("project"), &stateProject)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("project_id"), &stateProjectID)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("project"), &planProject)...)
	if resp.Diagnostics.HasError() || planProject.Equal(stateProject) {
		return
	}
	if planProject.IsUnknown() || stateProjectID.IsNull() || stateProjectID.IsUnknown() {
		g.requireProjectReplace(ctx, resp)
		return
	}
	client := g.client(&resp.Diagnostics)
	if client == nil {
		return
	}
	id, err := client.ProjectID(ctx, planProject.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if id != stateProjectID.ValueInt64() {
		g.requireProjectReplace(ctx, resp)
	}
}

func (g *gitlabClient) requireProjectReplace(ctx context.Context, resp *resource.ModifyPlanResponse) {
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("project"))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("project_id"), types.Int64Unknown())...)
}

// stateProjectID returns the numeric project ID kept in state or, right after
// an import (which records only the project as written), resolves it.
func stateProjectID(ctx context.Context, client *gitlab.Client, project types.String, projectID types.Int64) (int64, error) {
	if !projectID.IsNull() && !projectID.IsUnknown() {
		return projectID.ValueInt64(), nil
	}
	return client.ProjectID(ctx, project.ValueString())
}
