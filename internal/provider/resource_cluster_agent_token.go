package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var (
	_ resource.ResourceWithConfigure   = (*clusterAgentTokenResource)(nil)
	_ resource.ResourceWithImportState = (*clusterAgentTokenResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*clusterAgentTokenResource)(nil)
	_ resource.ResourceWithIdentity    = (*clusterAgentTokenResource)(nil)
)

// importedKey marks, in private state, a token imported without the
// provider-side rotation_triggers: the first configured value is adopted
// without replacing the token. Set to `true` by the import (or a move),
// it becomes `"refreshed"` at the first read after the import, which is the
// refresh of the first apply (or plan) after it, and goes away at the read
// after that: once the first apply after the import has run, the token is
// treated as any other.
const importedKey = "imported"

// checkedAtKey holds, in private state, the provider's clock when the token
// was last read or created. Rotation is decided from that time, not from the
// time of planning: a saved plan then applies the same way later, and a plan
// made just before a token falls due does not change its mind at apply.
const checkedAtKey = "checked_at"

// minRotateAfter is the shortest rotate_after accepted.
const minRotateAfter = time.Minute

func newClusterAgentTokenResource() resource.Resource { return &clusterAgentTokenResource{} }

type clusterAgentTokenResource struct{ resourceClient }

// agentTokenAttributes is what GitLab tells about a token, never its secret;
// shared by the resource, the data source and the list data source's elements.
type agentTokenAttributes struct {
	TokenID         types.Int64  `tfsdk:"token_id"`
	AgentID         types.Int64  `tfsdk:"agent_id"`
	Name            types.String `tfsdk:"name"`
	Description     types.String `tfsdk:"description"`
	Status          types.String `tfsdk:"status"`
	CreatedAt       types.String `tfsdk:"created_at"`
	CreatedByUserID types.Int64  `tfsdk:"created_by_user_id"`
	LastUsedAt      types.String `tfsdk:"last_used_at"`
}

type clusterAgentTokenModel struct {
	ID        types.String `tfsdk:"id"`
	Project   types.String `tfsdk:"project"`
	ProjectID types.Int64  `tfsdk:"project_id"`
	agentTokenAttributes
	Token            types.String   `tfsdk:"token"`
	RotateAfter      types.String   `tfsdk:"rotate_after"`
	RotationTriggers types.Map      `tfsdk:"rotation_triggers"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

// agentTokenToAttributes maps GitLab's token onto the shared attributes.
// GitLab's null description and an empty one look alike through client-go,
// so an empty description keeps the null or "" it had (configured or in state).
func agentTokenToAttributes(t *gl.AgentToken, description types.String) agentTokenAttributes {
	desc := types.StringValue(t.Description)
	if t.Description == "" && (description.IsNull() || description.IsUnknown()) {
		desc = types.StringNull()
	}
	return agentTokenAttributes{
		TokenID:         types.Int64Value(t.ID),
		AgentID:         types.Int64Value(t.AgentID),
		Name:            types.StringValue(t.Name),
		Description:     desc,
		Status:          types.StringValue(t.Status),
		CreatedAt:       timeValue(t.CreatedAt),
		CreatedByUserID: optionalID(t.CreatedByUserID),
		LastUsedAt:      timeValue(t.LastUsedAt),
	}
}

func (r *clusterAgentTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_token"
}

// IdentitySchema names the object by project_id, agent_id and token_id (Terraform 1.12 and later).
func (r *clusterAgentTokenResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identitySchema("agent_id", "token_id")
}

func (r *clusterAgentTokenResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock(ctx)},
		MarkdownDescription: "Creates a token for a GitLab agent for Kubernetes: the secret the agent in the cluster " +
			"(agentk) connects to GitLab with.\n\n" +
			"GitLab shows the secret only once, in the answer to the create request: the provider keeps it in " +
			"state (sensitive) and never reads it again. GitLab cannot update a token, so changing any input " +
			"(except `project` written another way and `rotate_after`) replaces it: a new token is created and the " +
			"old one revoked, which disconnects clusters still using it. With `lifecycle { create_before_destroy = " +
			"true }` the new token exists before the old one is revoked. An agent can have at most two active " +
			"tokens; creating a third fails before anything is changed, with a list of the active ones.\n\n" +
			"Rotate a token with `rotate_after` (age-based), `rotation_triggers` (any change), " +
			"`terraform apply -replace=<address>` or `lifecycle { replace_triggered_by = [...] }`.\n\n" +
			"A token managed by the official `gitlab` provider's `gitlab_cluster_agent_token` moves here with a " +
			"`moved` block, its secret included, without any change in GitLab: see the guide \"Moving agents from " +
			"the gitlab provider\".",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>:<token_id>`, with the numeric project ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project":    projectAttribute(),
			"project_id": projectIDAttribute(),
			"agent_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the agent the token is for, e.g. `gitlabagent_cluster_agent.x.agent_id`. " +
					"Changing it replaces the token.",
				Required:      true,
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the token, 1 to 255 characters, not only white space. Changing it " +
					"replaces the token.",
				Required: true,
				Validators: []validator.String{
					stringvalidator.UTF8LengthBetween(1, 255),
					stringvalidator.RegexMatches(regexp.MustCompile(`\S`),
						"must contain a character other than white space (GitLab: \"Name can't be blank\")"),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Description of the token, at most 1024 characters. Changing it replaces the token.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.UTF8LengthAtMost(1024)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
						// Unset and "" are the same to GitLab.
						resp.RequiresReplace = req.PlanValue.IsUnknown() ||
							req.StateValue.ValueString() != req.PlanValue.ValueString()
					},
					"Changing the description replaces the token (unset and \"\" are the same).",
					"Changing the description replaces the token (unset and `\"\"` are the same).",
				)},
			},
			"token_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the token.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "The secret token (`glagent-…`), to give to the agent in the cluster. " +
					"**Sensitive** and **write-once**: GitLab returns it only when the token is created, so it is " +
					"set then and kept unchanged in state afterwards; it is never read back. It is null for an " +
					"imported token, whose secret GitLab cannot give: replace the token " +
					"(`terraform apply -replace=<address>`) to get one Terraform knows.",
				Computed:      true,
				Sensitive:     true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Status of the token: `active`. A token found revoked is removed from state, " +
					"and the next plan creates a new one.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the token was created (RFC 3339). `rotate_after` counts from here.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"created_by_user_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the user who created the token; null if that user was deleted.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"last_used_at": schema.StringAttribute{
				MarkdownDescription: "When an agent last connected with the token (RFC 3339); null if never. " +
					"Refreshed on every read.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"rotate_after": schema.StringAttribute{
				MarkdownDescription: "Replace the token once it is older than this, a Go duration of at least one " +
					"minute such as `\"720h\"` (30 days) or `\"90m\"`. Checked at every plan against `created_at`, " +
					"as of the time the token was last read from GitLab (the refresh of that plan, or its creation " +
					"with `-refresh=false`), so that a saved plan (`terraform plan -out`) applies later exactly as " +
					"planned: a token that is due is planned for replacement, with a warning. Combine with " +
					"`lifecycle { create_before_destroy = true }` so that the new token exists before the old one " +
					"is revoked. Changing this setting alone never replaces the token.",
				Optional:   true,
				Validators: []validator.String{durationBetween(minRotateAfter, 100*365*24*time.Hour)},
			},
			"rotation_triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values; any change replaces the token (for example " +
					"`{ rotated = \"2025-q1\" }`). Unset and empty are the same. Provider-side only: GitLab " +
					"never sees them.",
				ElementType: types.StringType,
				Optional:    true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplaceIf(
					rotationTriggersChanged,
					"Any change replaces the token.",
					"Any change replaces the token.",
				)},
			},
		},
	}
}

// rotationTriggersChanged requires replacement when rotation_triggers change,
// except between unset and empty, and except the first value given after an
// import (GitLab knows no triggers, so none were imported).
func rotationTriggersChanged(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
	if len(req.StateValue.Elements()) == 0 && len(req.PlanValue.Elements()) == 0 && !req.PlanValue.IsUnknown() {
		return
	}
	if req.StateValue.IsNull() && req.Private != nil {
		if imported := privateKey(ctx, req.Private, importedKey, &resp.Diagnostics); len(imported) > 0 {
			return
		}
	}
	resp.RequiresReplace = true
}

func (r *clusterAgentTokenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	r.planProjectChange(ctx, req, resp)
	if req.State.Raw.IsNull() || resp.Diagnostics.HasError() {
		return
	}
	var state clusterAgentTokenModel
	var rotateAfter types.String
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("rotate_after"), &rotateAfter)...)
	if resp.Diagnostics.HasError() {
		return
	}
	checked := privateKey(ctx, req.Private, checkedAtKey, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var recorded string
	_ = json.Unmarshal(checked, &recorded)
	checkedAt, err := time.Parse(time.RFC3339Nano, recorded)
	if err != nil {
		// No time recorded yet (state written by an earlier version): the
		// next refresh records one. Until then nothing is decided.
		return
	}
	r.planRotation(ctx, state, rotateAfter, checkedAt, resp)
}

// recordCheck notes the provider's clock in private state: rotation is
// decided from it (see checkedAtKey).
func (r *clusterAgentTokenResource) recordCheck(ctx context.Context, private interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, diags *diag.Diagnostics) {
	value, _ := json.Marshal(r.clock().UTC().Format(time.RFC3339Nano)) // private state holds JSON
	diags.Append(private.SetKey(ctx, checkedAtKey, value)...)
}

// planRotation replaces a token older than rotate_after. Terraform replaces a
// resource only for an attribute whose planned value differs from state, so
// created_at (which the new token will change anyway) is planned unknown.
func (r *clusterAgentTokenResource) planRotation(ctx context.Context, state clusterAgentTokenModel, rotateAfter types.String, now time.Time, resp *resource.ModifyPlanResponse) {
	if rotateAfter.IsNull() || rotateAfter.IsUnknown() || state.CreatedAt.IsNull() || state.CreatedAt.IsUnknown() {
		return
	}
	maxAge, err := time.ParseDuration(rotateAfter.ValueString())
	if err != nil || maxAge < minRotateAfter {
		return // reported by the attribute's validator
	}
	created, err := time.Parse(time.RFC3339Nano, state.CreatedAt.ValueString())
	if err != nil {
		return
	}
	age := now.Sub(created)
	if age < maxAge {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("created_at"), types.StringUnknown())...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("created_at"))
	resp.Diagnostics.AddAttributeWarning(path.Root("rotate_after"), "Token due for rotation",
		fmt.Sprintf("Token %d (%q) was created at %s, %s before it was last checked, which is older than rotate_after (%s): it will be "+
			"replaced, i.e. revoked and a new token created. Clusters must receive the new token; use lifecycle { "+
			"create_before_destroy = true } so that the new token is created before this one is revoked and the "+
			"cluster stays connected while it switches.",
			state.TokenID.ValueInt64(), state.Name.ValueString(), state.CreatedAt.ValueString(),
			age.Truncate(time.Minute), rotateAfter.ValueString()))
}

func (r *clusterAgentTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan clusterAgentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	project := plan.Project.ValueString()
	// Resolved before the POST, whose answer does not carry the project, so
	// that no failure can come between the secret and state.
	projectID, err := client.ProjectID(ctx, project)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	token, err := client.CreateAgentToken(ctx, project, plan.AgentID.ValueInt64(), plan.Name.ValueString(),
		plan.Description.ValueStringPointer())
	if err != nil {
		addTokenCreateError(&resp.Diagnostics, err, project, plan.AgentID.ValueInt64())
		return
	}
	r.recordCheck(ctx, resp.Private, &resp.Diagnostics)
	plan.agentTokenAttributes = agentTokenToAttributes(token, plan.Description)
	plan.ProjectID = types.Int64Value(projectID)
	plan.ID = types.StringValue(stateID(projectID, token.AgentID, token.ID))
	plan.Token = types.StringValue(token.Token)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read refreshes what GitLab tells about the token; the secret stays as it is.
func (r *clusterAgentTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State, &req.State)
	var state clusterAgentTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	projectID, err := stateProjectID(ctx, client, state.Project, state.ProjectID)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	agentID, tokenID := state.AgentID.ValueInt64(), state.TokenID.ValueInt64()
	token, err := client.GetAgentToken(ctx, strconv.FormatInt(projectID, 10), agentID, tokenID)
	if gitlab.IsNotFound(err) || err == nil && token.Status == "revoked" {
		resp.Diagnostics.AddWarning("Agent token no longer active",
			fmt.Sprintf("Token %d (%q) of agent %d in project %q is revoked, or its agent was deleted, so it is "+
				"removed from state and the next plan creates a new token. Clusters still using the old token "+
				"are disconnected until they receive the new one.",
				tokenID, state.Name.ValueString(), agentID, state.Project.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	afterImport := !state.Name.IsNull() // the import's own read has only the IDs
	state.agentTokenAttributes = agentTokenToAttributes(token, state.Description)
	state.ProjectID = types.Int64Value(projectID)
	state.ID = types.StringValue(stateID(projectID, token.AgentID, token.ID))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	r.recordCheck(ctx, resp.Private, &resp.Diagnostics)
	if imported := privateKey(ctx, req.Private, importedKey, &resp.Diagnostics); len(imported) > 0 && afterImport {
		next := []byte(`"refreshed"`)
		if string(imported) != "true" {
			next = nil
		}
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, next)...)
	}
}

// Update happens only for provider-side changes: `project` written another
// way for the same project, `rotate_after`, `timeouts`, and rotation_triggers
// or description changes that GitLab would not see (see their plan modifiers).
// Nothing is sent to GitLab.
func (r *clusterAgentTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan, state clusterAgentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Project = plan.Project
	state.RotateAfter = plan.RotateAfter
	state.RotationTriggers = plan.RotationTriggers
	state.Description = plan.Description
	state.Timeouts = plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, nil)...)
}

// Delete revokes the token; one already revoked or gone is fine.
func (r *clusterAgentTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterAgentTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	err := client.RevokeAgentToken(ctx, apiProject(state.Project, state.ProjectID), state.AgentID.ValueInt64(),
		state.TokenID.ValueInt64())
	if err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState accepts "<project>:<agent_id>:<token_id>"; Read fills in the
// rest. The secret cannot be imported.
func (r *clusterAgentTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ids, ok := importByID(ctx, req, resp, "agent_id", "token_id")
	if !ok {
		return
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, []byte("true"))...)
	resp.Diagnostics.Append(importedTokenWarning(ids[1])...)
}

func importedTokenWarning(tokenID int64) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.AddAttributeWarning(path.Root("token"), "Token secret not imported",
		fmt.Sprintf("GitLab shows the secret of an agent token only when it is created, so the secret of token %d "+
			"cannot be read back: `token` stays null in state, while the token itself keeps working for the "+
			"clusters that already have it. To have Terraform hold a secret, run `terraform apply "+
			"-replace=<address of this resource>`: that mints a fresh token and revokes this one, after which every "+
			"cluster (and anything else) using the old token must be given the new one.", tokenID))
	return diags
}

// privateState is what a request's private state offers to read.
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

// privateKey reads key of the resource's private state, adding to diags
// whatever reading it reports.
func privateKey(ctx context.Context, private privateState, key string, diags *diag.Diagnostics) []byte {
	value, d := private.GetKey(ctx, key)
	diags.Append(d...)
	return value
}
