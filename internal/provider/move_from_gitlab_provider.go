package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Moving from the official gitlab provider (registry.terraform.io/gitlabhq/gitlab):
//
//	moved {
//	  from = gitlab_cluster_agent_token.production
//	  to   = gitlabagent_cluster_agent_token.production
//	}
//
// hands the state of its gitlab_cluster_agent and gitlab_cluster_agent_token
// over to gitlabagent_cluster_agent and gitlabagent_cluster_agent_token
// (Terraform 1.8 and later, OpenTofu 1.10 and later), the token's secret
// included. Nothing is sent to GitLab: the next refresh reads the objects as
// usual, and the plan is empty when the configuration matches.

var (
	_ resource.ResourceWithMoveState = (*clusterAgentResource)(nil)
	_ resource.ResourceWithMoveState = (*clusterAgentTokenResource)(nil)
)

// gitlabProvider is the official provider's namespace and type; the host is
// registry.terraform.io with Terraform, registry.opentofu.org with OpenTofu,
// or a private mirror's.
const gitlabProvider = "gitlabhq/gitlab"

// officialAttribute is an attribute the official provider stores, with the
// JSON type of its value in state. Every version has stored the same names
// and types for these two resource types (SDKv2 until 18.2, the plugin
// framework since, schema version 0 throughout); descriptions and flags
// changed, which do not matter for reading state. An attribute a version did
// not store is read as null.
type officialAttribute struct {
	name     string
	isNumber bool
}

var officialAgentAttributes = []officialAttribute{
	{name: "id"},
	{name: "project"},
	{name: "name"},
	{name: "agent_id", isNumber: true},
	{name: "created_at"},
	{name: "created_by_user_id", isNumber: true},
}

var officialTokenAttributes = []officialAttribute{
	{name: "id"},
	{name: "project"},
	{name: "agent_id", isNumber: true},
	{name: "name"},
	{name: "description"},
	{name: "token_id", isNumber: true},
	{name: "token"},
	{name: "status"},
	{name: "created_at"},
	{name: "created_by_user_id", isNumber: true},
	{name: "last_used_at"},
}

// officialSchema is the source schema the framework reads the moved state with.
func officialSchema(attrs []officialAttribute) *schema.Schema {
	s := schema.Schema{Attributes: map[string]schema.Attribute{}}
	for _, a := range attrs {
		if a.isNumber {
			s.Attributes[a.name] = schema.Int64Attribute{Optional: true}
		} else {
			s.Attributes[a.name] = schema.StringAttribute{Optional: true}
		}
	}
	return &s
}

// officialModel is the official provider's state of one resource type.
type officialModel interface {
	// missing names the attributes without which the object is not known.
	missing() []string
}

type officialAgentModel struct {
	ID              types.String `tfsdk:"id"`
	Project         types.String `tfsdk:"project"`
	Name            types.String `tfsdk:"name"`
	AgentID         types.Int64  `tfsdk:"agent_id"`
	CreatedAt       types.String `tfsdk:"created_at"`
	CreatedByUserID types.Int64  `tfsdk:"created_by_user_id"`
}

type officialTokenModel struct {
	ID              types.String `tfsdk:"id"`
	Project         types.String `tfsdk:"project"`
	AgentID         types.Int64  `tfsdk:"agent_id"`
	Name            types.String `tfsdk:"name"`
	Description     types.String `tfsdk:"description"`
	TokenID         types.Int64  `tfsdk:"token_id"`
	Token           types.String `tfsdk:"token"`
	Status          types.String `tfsdk:"status"`
	CreatedAt       types.String `tfsdk:"created_at"`
	CreatedByUserID types.Int64  `tfsdk:"created_by_user_id"`
	LastUsedAt      types.String `tfsdk:"last_used_at"`
}

func (m *officialAgentModel) missing() []string {
	return absent(map[string]attr.Value{"project": m.Project, "name": m.Name, "agent_id": m.AgentID})
}

func (m *officialTokenModel) missing() []string {
	return absent(map[string]attr.Value{"project": m.Project, "agent_id": m.AgentID, "token_id": m.TokenID,
		"name": m.Name})
}

// absent returns, sorted, the names of the null, unknown or empty values.
func absent(values map[string]attr.Value) []string {
	var names []string
	for name, v := range values {
		if v.IsNull() || v.IsUnknown() {
			names = append(names, name)
		} else if s, ok := v.(types.String); ok && s.ValueString() == "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func (r *clusterAgentResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{{
		SourceSchema: officialSchema(officialAgentAttributes),
		StateMover:   moveAgentFromGitLabProvider,
	}}
}

func (r *clusterAgentTokenResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{{
		SourceSchema: officialSchema(officialTokenAttributes),
		StateMover:   moveTokenFromGitLabProvider,
	}}
}

func moveAgentFromGitLabProvider(ctx context.Context, req resource.MoveStateRequest, resp *resource.MoveStateResponse) {
	var src officialAgentModel
	if !readOfficialState(ctx, req, resp, "gitlab_cluster_agent", officialAgentAttributes, &src) {
		return
	}
	projectID := numericProject(src.Project)
	target := clusterAgentResourceModel{clusterAgentModel: clusterAgentModel{
		ID:              types.StringNull(),
		Project:         src.Project,
		ProjectID:       projectID,
		Name:            src.Name,
		AgentID:         src.AgentID,
		CreatedAt:       nullIfEmpty(src.CreatedAt),
		CreatedByUserID: src.CreatedByUserID,
	}, Timeouts: nullTimeouts()}
	if !projectID.IsNull() {
		target.ID = types.StringValue(stateID(projectID.ValueInt64(), src.AgentID.ValueInt64()))
	}
	resp.Diagnostics.Append(resp.TargetState.Set(ctx, &target)...)
	setMovedIdentity(ctx, projectID, resp)
}

func moveTokenFromGitLabProvider(ctx context.Context, req resource.MoveStateRequest, resp *resource.MoveStateResponse) {
	var src officialTokenModel
	if !readOfficialState(ctx, req, resp, "gitlab_cluster_agent_token", officialTokenAttributes, &src) {
		return
	}
	projectID := numericProject(src.Project)
	target := clusterAgentTokenModel{
		ID:        types.StringNull(),
		Project:   src.Project,
		ProjectID: projectID,
		agentTokenAttributes: agentTokenAttributes{
			TokenID: src.TokenID,
			AgentID: src.AgentID,
			Name:    src.Name,
			// The SDKv2 versions stored "" for an unset description and a
			// token never used: to GitLab these are null.
			Description:     nullIfEmpty(src.Description),
			Status:          src.Status,
			CreatedAt:       nullIfEmpty(src.CreatedAt),
			CreatedByUserID: src.CreatedByUserID,
			LastUsedAt:      nullIfEmpty(src.LastUsedAt),
		},
		Token:            src.Token,
		RotateAfter:      types.StringNull(),
		RotationTriggers: types.MapNull(types.StringType),
		Timeouts:         nullTimeouts(),
	}
	if !projectID.IsNull() {
		target.ID = types.StringValue(stateID(projectID.ValueInt64(), src.AgentID.ValueInt64(), src.TokenID.ValueInt64()))
	}
	if src.Token.ValueString() == "" {
		// Imported into the official provider: it never had the secret.
		// Treated as this provider's own import (see ImportState).
		target.Token = types.StringNull()
		resp.Diagnostics.Append(resp.TargetPrivate.SetKey(ctx, importedKey, []byte("true"))...)
		resp.Diagnostics.Append(importedTokenWarning(src.TokenID.ValueInt64())...)
	}
	resp.Diagnostics.Append(resp.TargetState.Set(ctx, &target)...)
	setMovedIdentity(ctx, projectID, resp)
}

// readOfficialState reads the moved state into target. It returns false,
// leaving the response untouched, for a source that is not the official
// provider's resource of this type (the framework then says that moving
// from it is not supported), and false with an error for state it cannot
// move, naming what is wrong.
func readOfficialState(ctx context.Context, req resource.MoveStateRequest, resp *resource.MoveStateResponse, sourceType string, attrs []officialAttribute, target officialModel) bool {
	if req.SourceTypeName != sourceType || !isGitLabProvider(req.SourceProviderAddress) {
		return false
	}
	what := fmt.Sprintf("%s of %s (schema version %d)", sourceType, req.SourceProviderAddress, req.SourceSchemaVersion)
	if req.SourceState == nil {
		resp.Diagnostics.AddError("Cannot move "+sourceType,
			fmt.Sprintf("The state of the %s could not be read: %s. Nothing was changed. Import the object "+
				"instead (see the guide \"Moving agents from the gitlab provider\").",
				what, malformedReason(req, attrs)))
		return false
	}
	resp.Diagnostics.Append(req.SourceState.Get(ctx, target)...)
	if resp.Diagnostics.HasError() {
		return false
	}
	missing := target.missing()
	if len(missing) > 0 {
		resp.Diagnostics.AddError("Cannot move "+sourceType,
			fmt.Sprintf("The state of the %s has no %s, without which the object in GitLab is not known. "+
				"Nothing was changed. Refresh it with the gitlab provider first (terraform apply -refresh-only), "+
				"or import the object instead (see the guide \"Moving agents from the gitlab provider\").",
				what, strings.Join(missing, " and ")))
		return false
	}
	return true
}

// isGitLabProvider tells whether a provider address is the official gitlab
// provider's, on any registry host.
func isGitLabProvider(address string) bool {
	return address == gitlabProvider || strings.HasSuffix(address, "/"+gitlabProvider)
}

// malformedReason explains why the raw state does not fit the official
// schema: which attributes have a value of another type.
func malformedReason(req resource.MoveStateRequest, attrs []officialAttribute) string {
	if req.SourceRawState == nil || req.SourceRawState.JSON == nil {
		return "it is not stored as JSON (a state written by Terraform before 0.12)"
	}
	var raw map[string]any
	if err := json.Unmarshal(req.SourceRawState.JSON, &raw); err != nil {
		return "it is not a JSON object"
	}
	var wrong []string
	for _, a := range attrs {
		v, ok := raw[a.name]
		if !ok || v == nil {
			continue
		}
		switch v.(type) {
		case float64:
			if !a.isNumber {
				wrong = append(wrong, a.name+" is a number, expected a string")
			}
		case string:
			if a.isNumber {
				wrong = append(wrong, a.name+" is a string, expected a number")
			}
		default:
			wrong = append(wrong, fmt.Sprintf("%s is a %T, expected a %s", a.name, v, map[bool]string{true: "number", false: "string"}[a.isNumber]))
		}
	}
	sort.Strings(wrong)
	if len(wrong) == 0 {
		return "its attributes do not have the types the gitlab provider stores"
	}
	return strings.Join(wrong, "; ")
}

func nullIfEmpty(s types.String) types.String {
	if s.ValueString() == "" {
		return types.StringNull()
	}
	return s
}

// numericProject is the project's numeric ID when the official provider's
// project is written as one, else null (Read resolves it from the path).
func numericProject(project types.String) types.Int64 {
	id, err := strconv.ParseInt(project.ValueString(), 10, 64)
	if err != nil || id <= 0 {
		return types.Int64Null()
	}
	return types.Int64Value(id)
}

// setMovedIdentity sets the identity when the whole of it is known: with a
// project path, the first read sets it (a partial identity would then look
// like an identity that changed, which Terraform rejects).
func setMovedIdentity(ctx context.Context, projectID types.Int64, resp *resource.MoveStateResponse) {
	if projectID.IsNull() || resp.TargetIdentity == nil || resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(identityFromState(ctx, resp.TargetIdentity, &resp.TargetState)...)
}
