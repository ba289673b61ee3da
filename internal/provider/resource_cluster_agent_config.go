package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var (
	_ resource.ResourceWithConfigure      = (*clusterAgentConfigResource)(nil)
	_ resource.ResourceWithImportState    = (*clusterAgentConfigResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*clusterAgentConfigResource)(nil)
	_ resource.ResourceWithIdentity       = (*clusterAgentConfigResource)(nil)
	_ resource.ResourceWithValidateConfig = (*clusterAgentConfigResource)(nil)
)

func newClusterAgentConfigResource() resource.Resource { return &clusterAgentConfigResource{} }

type clusterAgentConfigResource struct{ resourceClient }

type clusterAgentConfigModel struct {
	ID               types.String   `tfsdk:"id"`
	Project          types.String   `tfsdk:"project"`
	ProjectID        types.Int64    `tfsdk:"project_id"`
	AgentName        types.String   `tfsdk:"agent_name"`
	FilePath         types.String   `tfsdk:"file_path"`
	Branch           types.String   `tfsdk:"branch"`
	CIAccess         types.Object   `tfsdk:"ci_access"`
	UserAccess       types.Object   `tfsdk:"user_access"`
	Observability    types.Object   `tfsdk:"observability"`
	AdditionalConfig types.String   `tfsdk:"additional_config"`
	CommitMessage    types.String   `tfsdk:"commit_message"`
	AuthorName       types.String   `tfsdk:"author_name"`
	AuthorEmail      types.String   `tfsdk:"author_email"`
	LastCommitID     types.String   `tfsdk:"last_commit_id"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

// typed returns the typed attributes by their YAML key.
func (m *clusterAgentConfigModel) typed() map[string]*types.Object {
	return map[string]*types.Object{"ci_access": &m.CIAccess, "user_access": &m.UserAccess, "observability": &m.Observability}
}

func (r *clusterAgentConfigResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_config"
}

// IdentitySchema names the file by project_id and agent_name (Terraform 1.12 and later).
func (r *clusterAgentConfigResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"project_id": identityAttribute("project_id"),
		"agent_name": identityschema.StringAttribute{RequiredForImport: true, Description: "Name of the agent whose configuration file this is."},
	}}
}

// agentConfigPath is where GitLab's agent server reads an agent's configuration.
func agentConfigPath(agentName string) string {
	return ".gitlab/agents/" + agentName + "/config.yaml"
}

var emptyObject = map[string]schema.Attribute{}

// ciAccessEntryAttributes are the fields of a ci_access project or group (withID) or of
// ci_access.instance.
func ciAccessEntryAttributes(withID bool) map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{
		"default_namespace": schema.StringAttribute{Optional: true,
			MarkdownDescription: "Namespace that CI/CD jobs' Kubernetes contexts use when a manifest names none."},
		"access_as": schema.SingleNestedAttribute{Optional: true,
			MarkdownDescription: "Whom the jobs act as in the cluster: exactly one of `agent = {}` (the agent's " +
				"service account, the default), `impersonate` (Premium) or `ci_job = {}` (the job's identity).",
			Attributes: map[string]schema.Attribute{
				"agent":  schema.SingleNestedAttribute{Optional: true, Attributes: emptyObject, MarkdownDescription: "Act as the agent: `agent = {}`."},
				"ci_job": schema.SingleNestedAttribute{Optional: true, Attributes: emptyObject, MarkdownDescription: "Act as the CI/CD job: `ci_job = {}`."},
				"impersonate": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "Act as a Kubernetes user.",
					Attributes: map[string]schema.Attribute{
						"username": schema.StringAttribute{Required: true, MarkdownDescription: "User to impersonate."},
						"groups":   schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Groups to impersonate."},
						"uid":      schema.Int64Attribute{Optional: true, MarkdownDescription: "UID to impersonate."},
						"extra": schema.ListNestedAttribute{Optional: true, MarkdownDescription: "Extra fields to impersonate.",
							NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
								"key": schema.StringAttribute{Required: true, MarkdownDescription: "Field name."},
								"val": schema.ListAttribute{Required: true, ElementType: types.StringType, MarkdownDescription: "Values, at least one."},
							}}},
					}},
			}},
		"environments": schema.ListAttribute{Optional: true, ElementType: types.StringType,
			MarkdownDescription: "Only jobs of these environments (names or patterns such as `review/*`) may use the agent."},
		"protected_branches_only": schema.BoolAttribute{Optional: true,
			MarkdownDescription: "Only jobs on protected branches may use the agent (GitLab 17.3 and later)."},
		"resource_management": schema.SingleNestedAttribute{Optional: true,
			MarkdownDescription: "GitLab-managed Kubernetes resources (GitLab 17.9 and later, Premium).",
			Attributes: map[string]schema.Attribute{
				"enabled": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether GitLab manages resources for the jobs' environments."},
			}},
	}
	if withID {
		attrs["id"] = schema.StringAttribute{Required: true,
			MarkdownDescription: "Full path of the project or group, e.g. `group/project`. It must be in the same " +
				"top-level group as the agent's project: GitLab ignores anything else."}
	}
	return attrs
}

func idEntryList(what string) schema.ListNestedAttribute {
	return schema.ListNestedAttribute{Optional: true,
		MarkdownDescription: fmt.Sprintf("%s, at most %d (GitLab ignores the rest).", what, maxAuthorizedEntities),
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Required: true, MarkdownDescription: "Full path, e.g. `group/project`."},
		}}}
}

func (r *clusterAgentConfigResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = agentConfigSchema(ctx)
}

func agentConfigSchema(ctx context.Context) schema.Schema {
	entryList := func(what string) schema.ListNestedAttribute {
		return schema.ListNestedAttribute{Optional: true,
			MarkdownDescription: fmt.Sprintf("%s whose CI/CD jobs may use the agent, at most %d (GitLab ignores the rest).", what, maxAuthorizedEntities),
			NestedObject:        schema.NestedAttributeObject{Attributes: ciAccessEntryAttributes(true)}}
	}
	return schema.Schema{
		Blocks: map[string]schema.Block{"timeouts": timeouts.Block(ctx, timeouts.Opts{
			Create: true, Read: true, Update: true, Delete: true,
			CreateDescription: "How long creating may take in all, a Go duration such as `\"30m\"`. Default `" + defaultCreateTimeout.String() + "`.",
			ReadDescription:   "How long reading (refresh) may take in all. Default `" + defaultReadTimeout.String() + "`.",
			UpdateDescription: "How long updating may take in all. Default `" + defaultCreateTimeout.String() + "`.",
			DeleteDescription: "How long deleting may take in all. Default `" + defaultDeleteTimeout.String() + "`.",
		})},
		MarkdownDescription: "The configuration file of a GitLab agent for Kubernetes, `.gitlab/agents/<agent_name>/config.yaml` " +
			"on the default branch of the agent's project: what CI/CD jobs (`ci_access`) and users (`user_access`) may do " +
			"through the agent, and how agentk logs (`observability`). Other keys go in `additional_config`.\n\n" +
			"GitLab's agent server parses this file strictly and, when it finds one mistake, ignores the **whole** file " +
			"and keeps the old authorizations without saying so. This resource catches those mistakes at plan time: " +
			"unknown keys, `access_as` empty or with two choices, empty `id`s, lists over GitLab's 500 entries, the " +
			"removed `gitops.manifest_projects`, a file over 128 KiB; and warns about entries GitLab would drop " +
			"because they are outside the project's top-level group.\n\n" +
			"The file is written as canonical YAML under a header saying Terraform manages it, in one commit on the " +
			"default branch (the only branch GitLab reads). A file edited outside Terraform that means the same (other " +
			"key order, quoting, comments or white space) is not a change; any other edit shows in the next plan and " +
			"the apply restores the configuration.\n\n" +
			"Nobody's work is overwritten: creating refuses to replace an existing file (import it instead); an " +
			"update sends the file's last commit as read at refresh, so a commit made in between makes the update fail " +
			"instead of being lost; and destroying deletes the file only if it is still as last read. GitLab's " +
			"delete takes no `last_commit_id`, so destroy reads the file first: when a commit changed it after the " +
			"refresh, nothing is deleted and the error says so; the next destroy refreshes, shows the file as it is, " +
			"and deletes it. A file already gone counts as deleted.\n\n" +
			"The token's user needs the Developer role to commit, and on a protected default branch the role its " +
			"protection allows to push: GitLab protects the default branch for Maintainers by default.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_name>`, with the numeric project ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project":    projectAttribute(),
			"project_id": projectIDAttribute(),
			"agent_name": schema.StringAttribute{
				MarkdownDescription: "Name of the agent this file configures; the file is `.gitlab/agents/<agent_name>/config.yaml`. " +
					"The agent may be registered before or after the file. Changing it replaces the file.",
				Required:      true,
				Validators:    []validator.String{agentNameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"file_path": schema.StringAttribute{
				MarkdownDescription: "Path of the file in the repository.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"branch": schema.StringAttribute{
				MarkdownDescription: "The project's default branch, which the file is committed to, as last read.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ci_access": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Which CI/CD jobs may use the agent's Kubernetes context (`ci_access`). Entries must be in " +
					"the same top-level group as the agent's project.",
				Attributes: map[string]schema.Attribute{
					"projects": entryList("Projects"),
					"groups":   entryList("Groups (with all their subgroups and projects)"),
					"instance": schema.SingleNestedAttribute{Optional: true,
						MarkdownDescription: "Every project of the instance (GitLab 17.11 and later; only honoured when an administrator " +
							"turned on `organization_cluster_agent_authorization_enabled`).",
						Attributes: ciAccessEntryAttributes(false)},
				}},
			"user_access": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Which users may reach the cluster through the agent's Kubernetes API proxy (`user_access`): " +
					"members of the listed projects and groups.",
				Attributes: map[string]schema.Attribute{
					"access_as": schema.SingleNestedAttribute{Required: true,
						MarkdownDescription: "Exactly one of `agent = {}` (requests act as the agent) or `user = {}` (impersonate the " +
							"GitLab user; Premium).",
						Attributes: map[string]schema.Attribute{
							"agent": schema.SingleNestedAttribute{Optional: true, Attributes: emptyObject, MarkdownDescription: "`agent = {}`."},
							"user":  schema.SingleNestedAttribute{Optional: true, Attributes: emptyObject, MarkdownDescription: "`user = {}`."},
						}},
					"projects": idEntryList("Projects whose members get access"),
					"groups":   idEntryList("Groups whose members get access"),
				}},
			"observability": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "agentk's logging (`observability.logging`).",
				Attributes: map[string]schema.Attribute{
					"logging": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "Log levels.",
						Attributes: map[string]schema.Attribute{
							"level": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.OneOf(logLevels...)},
								MarkdownDescription: "agentk's log level: `info` (GitLab's default), `debug`, `warn` or `error`."},
							"grpc_level": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.OneOf(logLevels...)},
								MarkdownDescription: "Log level of agentk's gRPC client: `info`, `debug`, `warn` or `error` (agentk's default)."},
						}},
				}},
			"additional_config": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Other keys of the file, as YAML or JSON (for example from `yamlencode()`): `remote_development`, " +
					"`container_scanning`, `flux`, `observability.google_profiler`, …. They are merged with the typed attributes; " +
					"a key set both here and in a typed attribute is an error. Unknown keys are refused at plan time, as the " +
					"agent server would reject the whole file for them (keys under `remote_development`, whose set changes " +
					"with GitLab releases, are not checked). Read back, keys GitLab's file holds beyond the typed attributes appear " +
					"here as YAML. After an import, the first plan may show this attribute changing from that YAML to your own " +
					"writing of the same keys: applying it commits nothing."},
			"commit_message": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Message of the commits that create, update and delete the file. By default they name the agent, " +
					"e.g. `Update configuration of agent production (Terraform)`.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"author_name": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Commit author's name; by default the token's user.", Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"author_email": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Commit author's email; by default the token's user's commit email.", Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"last_commit_id": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The last commit that changed the file, as last read. An update sends it to GitLab, which refuses " +
					"the update if the file changed since."},
		},
	}
}

// typedType returns the framework type of a typed attribute.
func typedType(ctx context.Context, key string) basetypes.ObjectType {
	return agentConfigSchema(ctx).Attributes[key].GetType().(basetypes.ObjectType)
}

// documents builds the typed document and the additional_config document of a model. A problem with
// additional_config is returned as an error.
func (m *clusterAgentConfigModel) documents() (typed, extra map[string]any, err error) {
	typed = map[string]any{}
	for key, v := range m.typed() {
		if d, ok := valueToDoc(*v); ok {
			typed[key] = d
		}
	}
	if m.AdditionalConfig.IsUnknown() {
		return typed, nil, nil
	}
	extra = map[string]any{}
	if !m.AdditionalConfig.IsNull() {
		if extra, err = parseDocument([]byte(m.AdditionalConfig.ValueString())); err != nil {
			return typed, nil, err
		}
	}
	return typed, extra, nil
}

// desired is the whole document a known model stands for.
func (m *clusterAgentConfigModel) desired() (map[string]any, error) {
	typed, extra, err := m.documents()
	if err != nil {
		return nil, err
	}
	doc, conflicts := mergeDocuments(typed, extra)
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("keys set both in typed attributes and in additional_config: %s", strings.Join(conflicts, ", "))
	}
	return doc, nil
}

// configAttributePath turns a path inside the typed document into the attribute path.
func configAttributePath(p docPath) path.Path {
	out := path.Root(p[0].(string))
	for _, s := range p[1:] {
		switch x := s.(type) {
		case string:
			out = out.AtName(x)
		case int:
			out = out.AtListIndex(x)
		}
	}
	return out
}

// ValidateConfig runs every check that needs no request.
func (r *clusterAgentConfigResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m clusterAgentConfigModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	typed, extra, err := m.documents()
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("additional_config"), "Invalid additional_config",
			fmt.Sprintf("additional_config must be a YAML or JSON mapping of configuration keys (e.g. yamlencode({ flux = { "+
				"webhook_receiver_url = \"…\" } })): %v.", err))
		return
	}
	for _, p := range checkDocument(typed) {
		resp.Diagnostics.AddAttributeError(configAttributePath(p.path), p.summary, p.detail)
	}
	if extra == nil {
		return
	}
	for _, p := range checkDocument(extra) {
		resp.Diagnostics.AddAttributeError(path.Root("additional_config"), p.summary, "In additional_config: "+p.detail)
	}
	doc, conflicts := mergeDocuments(typed, extra)
	for _, c := range conflicts {
		resp.Diagnostics.AddAttributeError(path.Root("additional_config"), "Key set twice",
			fmt.Sprintf("%s is set both by a typed attribute and in additional_config. Set it in one place only: the "+
				"typed attribute where there is one.", c))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if !hasUnknown(doc) {
		if text, err := renderDocument(doc); err == nil && len(text) > maxConfigFileBytes {
			resp.Diagnostics.AddError("Agent configuration too large",
				fmt.Sprintf("The configuration file would be %d bytes; GitLab's agent server reads files of at most %d bytes "+
					"(128 KiB) and rejects larger ones. Authorize groups instead of many projects, or move keys out.",
					len(text), maxConfigFileBytes))
		}
	}
	for _, p := range instanceProblems(typed) {
		resp.Diagnostics.AddAttributeWarning(configAttributePath(p.path), p.summary, p.detail)
	}
	for _, p := range instanceProblems(extra) {
		resp.Diagnostics.AddAttributeWarning(path.Root("additional_config"), p.summary, "In additional_config: "+p.detail)
	}
	project := m.Project.ValueString()
	if m.Project.IsUnknown() || !strings.Contains(project, "/") {
		return
	}
	for _, p := range outsideGroup(typed, project) {
		resp.Diagnostics.AddAttributeWarning(configAttributePath(p.path), p.summary, p.detail)
	}
	for _, p := range outsideGroup(extra, project) {
		resp.Diagnostics.AddAttributeWarning(path.Root("additional_config"), p.summary, "In additional_config: "+p.detail)
	}
}

// ModifyPlan shows the file's path at plan time and decides what a change of `project` means.
func (r *clusterAgentConfigResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("agent_name"), &name)...)
	if !name.IsNull() && !name.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("file_path"), agentConfigPath(name.ValueString()))...)
	}
	r.planProjectChange(ctx, req, resp)
}

// commitFor builds the commit of an operation ("Add", "Update", "Remove").
func commitFor(m *clusterAgentConfigModel, verb, branch string) gitlab.FileCommit {
	msg := m.CommitMessage.ValueString()
	if msg == "" {
		msg = fmt.Sprintf("%s configuration of agent %s (Terraform)", verb, m.AgentName.ValueString())
	}
	return gitlab.FileCommit{Branch: branch, Message: msg, AuthorName: m.AuthorName.ValueString(), AuthorEmail: m.AuthorEmail.ValueString()}
}

// fileToState records what GitLab said about the written or read file.
func fileToState(m *clusterAgentConfigModel, repo *gitlab.ProjectRepository, f *gitlab.RepositoryFile) {
	m.ProjectID = types.Int64Value(repo.ProjectID)
	m.ID = types.StringValue(strconv.FormatInt(repo.ProjectID, 10) + ":" + m.AgentName.ValueString())
	m.FilePath = types.StringValue(agentConfigPath(m.AgentName.ValueString()))
	m.Branch = types.StringValue(repo.DefaultBranch)
	m.LastCommitID = types.StringValue(f.LastCommitID)
}

func (r *clusterAgentConfigResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer setAgentConfigIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan clusterAgentConfigModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	text, ok := renderPlan(&plan, &resp.Diagnostics)
	if !ok {
		return
	}
	project := plan.Project.ValueString()
	repo, err := client.Repository(ctx, project)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	filePath := agentConfigPath(plan.AgentName.ValueString())
	f, err := client.CreateRepositoryFile(ctx, repo.ProjectID, filePath, text, commitFor(&plan, "Add", repo.DefaultBranch))
	if err != nil {
		addConfigCreateError(&resp.Diagnostics, err, project, plan.AgentName.ValueString())
		return
	}
	fileToState(&plan, repo, f)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// renderPlan renders the planned document as the file's bytes.
func renderPlan(m *clusterAgentConfigModel, diags *diag.Diagnostics) ([]byte, bool) {
	doc, err := m.desired()
	if err == nil {
		var text []byte
		if text, err = renderDocument(doc); err == nil {
			return text, true
		}
	}
	diags.AddError("Cannot write the agent configuration", err.Error())
	return nil, false
}

// addConfigCreateError adds a failed create, with the import command when the file exists already.
func addConfigCreateError(diags *diag.Diagnostics, err error, project, agentName string) {
	var e *gitlab.Error
	if !errors.As(err, &e) {
		addError(diags, err)
		return
	}
	importID := project + ":" + agentName
	switch {
	case gitlab.Reason(err) == gitlab.ReasonFileExists:
		diags.AddError("The agent's configuration file already exists", e.Detail+"\n\n"+
			fmt.Sprintf("It may hold someone's work, so it is not overwritten. To manage it with this resource, import it:\n\n"+
				"  terraform import <address of this gitlabagent_cluster_agent_config> '%s'\n\n"+
				"or, with Terraform 1.5 or newer, an import block:\n\n  import {\n    to = <address of this "+
				"gitlabagent_cluster_agent_config>\n    id = %q\n  }\n\nThe next plan then shows how the file differs from "+
				"this configuration.", importID, importID))
	case e.OutcomeUnknown:
		diags.AddError(e.Summary, errorDetail(e)+"\n\n"+fmt.Sprintf("Whether GitLab committed the file is unknown. Run again: "+
			"if the file exists by then, the error says so, and it can be imported with ID '%s'.", importID))
	default:
		diags.AddError(e.Summary, errorDetail(e))
	}
}

func (r *clusterAgentConfigResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer setAgentConfigIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State, &req.State)
	var state clusterAgentConfigModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	repo, filePath, f, err := currentConfigFile(ctx, client, &state)
	if repo == nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if gitlab.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Agent configuration file no longer exists",
			fmt.Sprintf("%s is not on branch %q of project %q any more, so it is removed from state and the next plan "+
				"commits it again. Until then the agent runs with an empty configuration.", filePath, repo.DefaultBranch,
				state.Project.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	fileIntoModel(ctx, &state, f.Content)
	fileToState(&state, repo, f)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// currentConfigFile reads the project's default branch and the agent's configuration file on it as they
// are in GitLab now. repo is nil when the project could not be read; otherwise err is the file's read.
func currentConfigFile(ctx context.Context, client *gitlab.Client, state *clusterAgentConfigModel) (*gitlab.ProjectRepository, string, *gitlab.RepositoryFile, error) {
	repo, err := client.Repository(ctx, apiProject(state.Project, state.ProjectID))
	if err != nil {
		return nil, "", nil, err
	}
	filePath := agentConfigPath(state.AgentName.ValueString())
	f, err := client.GetRepositoryFile(ctx, repo.ProjectID, filePath, repo.DefaultBranch)
	return repo, filePath, f, err
}

// fileIntoModel makes the model say what the file says. A file that means what the model means leaves
// the model as it is, so that key order, quoting, comments and white space are not changes. Otherwise
// the typed attributes take what they can represent exactly and additional_config the rest, so that the
// next plan shows the difference.
func fileIntoModel(ctx context.Context, m *clusterAgentConfigModel, content []byte) {
	fileDoc, err := parseDocument(content)
	if err != nil {
		for _, v := range m.typed() {
			*v = types.ObjectNull(v.AttributeTypes(ctx))
		}
		m.AdditionalConfig = types.StringValue(string(content))
		return
	}
	if want, err := m.desired(); err == nil && sameDocument(want, fileDoc) {
		return
	}
	rest := map[string]any{}
	for k, v := range fileDoc {
		rest[k] = v
	}
	for key, v := range m.typed() {
		t := typedType(ctx, key)
		d, ok := fileDoc[key]
		if !ok {
			*v = types.ObjectNull(t.AttrTypes)
			continue
		}
		typedPart, restPart := splitDocument(d, t)
		if typedPart == nil {
			*v = types.ObjectNull(t.AttrTypes)
			continue
		}
		obj, err := docToValue(typedPart, t)
		if err != nil {
			*v = types.ObjectNull(t.AttrTypes)
			continue
		}
		*v = obj.(types.Object)
		if restPart == nil {
			delete(rest, key)
		} else {
			rest[key] = restPart
		}
	}
	if len(rest) == 0 {
		m.AdditionalConfig = types.StringNull()
		return
	}
	if !m.AdditionalConfig.IsNull() {
		if current, err := parseDocument([]byte(m.AdditionalConfig.ValueString())); err == nil && sameDocument(current, rest) {
			return
		}
	}
	m.AdditionalConfig = types.StringValue(renderExtra(rest))
}

// splitDocument splits a document value into what a typed attribute of type t represents exactly and
// the rest (nil when nothing is left), mapping by mapping.
func splitDocument(d any, t attr.Type) (typedPart, rest any) {
	if v, err := docToValue(d, t); err == nil {
		if back, ok := valueToDoc(v); ok && sameDocument(back, d) {
			return d, nil
		}
	}
	ot, isObject := t.(basetypes.ObjectType)
	m, isMap := d.(map[string]any)
	if !isObject || !isMap {
		return nil, d
	}
	typedMap, restMap := map[string]any{}, map[string]any{}
	for k, v := range m {
		at, known := ot.AttrTypes[k]
		if !known {
			restMap[k] = v
			continue
		}
		tp, rp := splitDocument(v, at)
		if tp != nil {
			typedMap[k] = tp
		}
		if rp != nil {
			restMap[k] = rp
		}
	}
	if len(typedMap) == 0 {
		return nil, d
	}
	if len(restMap) == 0 {
		return typedMap, nil
	}
	return typedMap, restMap
}

func (r *clusterAgentConfigResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer setAgentConfigIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan, state clusterAgentConfigModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Update, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	text, ok := renderPlan(&plan, &resp.Diagnostics)
	if !ok {
		return
	}
	want, _ := plan.desired()
	had, err := state.desired()
	if err == nil && sameDocument(want, had) {
		// Only the project's spelling, the commit message or the author changed: nothing to commit.
		plan.LastCommitID = state.LastCommitID
		plan.Branch = state.Branch
		plan.FilePath, plan.ID = state.FilePath, state.ID
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	repo, err := client.Repository(ctx, apiProject(state.Project, state.ProjectID))
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	branch := repo.DefaultBranch
	filePath := agentConfigPath(plan.AgentName.ValueString())
	f, err := client.UpdateRepositoryFile(ctx, repo.ProjectID, filePath, text, state.LastCommitID.ValueString(), commitFor(&plan, "Update", branch))
	if err != nil {
		var e *gitlab.Error
		switch {
		case gitlab.Reason(err) == gitlab.ReasonFileChanged && errors.As(err, &e):
			resp.Diagnostics.AddError("The agent's configuration file changed since the last refresh",
				e.Detail+fmt.Sprintf(" The file's last commit was %s when Terraform last read it. Run `terraform plan` "+
					"again: its refresh reads the change, the plan shows how it differs from this configuration, and "+
					"the apply then writes this configuration over it. Keep whatever of the change you want by "+
					"adding it to the configuration first.", state.LastCommitID.ValueString()))
		case errors.As(err, &e) && e.OutcomeUnknown:
			resp.Diagnostics.AddError(e.Summary, e.Detail+" Whether GitLab committed the update is unknown: run "+
				"`terraform plan` again, which reads the file as it is."+answerAdvice(e))
		default:
			addError(&resp.Diagnostics, err)
		}
		return
	}
	fileToState(&plan, repo, f)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete deletes the file in one commit, but only when it is still as last read. GitLab ignores
// last_commit_id on delete, so the file is read first: if another commit changed it since the last
// refresh, nothing is deleted and the error says so, since that commit may be someone's work that the
// plan never showed. A file already gone is fine.
func (r *clusterAgentConfigResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterAgentConfigModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	repo, filePath, f, err := currentConfigFile(ctx, client, &state)
	if repo == nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if gitlab.IsNotFound(err) {
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if f.LastCommitID != state.LastCommitID.ValueString() {
		resp.Diagnostics.AddError("The agent's configuration file changed since the last refresh",
			fmt.Sprintf("%s on branch %q of project %q was last changed by commit %s, not by %s as when Terraform last "+
				"read it: someone committed to it since. It was not deleted, so that their change is not lost without "+
				"being shown. Run the destroy again: its refresh reads the file as it is now and the plan shows it. To "+
				"leave the file in GitLab instead, remove it from state (terraform state rm) or use a `removed` block.",
				filePath, repo.DefaultBranch, state.Project.ValueString(), f.LastCommitID, state.LastCommitID.ValueString()))
		return
	}
	if err := client.DeleteRepositoryFile(ctx, repo.ProjectID, filePath, commitFor(&state, "Remove", repo.DefaultBranch)); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState accepts "<project>:<agent_name>", or an identity of project_id and agent_name.
func (r *clusterAgentConfigResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var project, name string
	if req.ID == "" && req.Identity != nil {
		const example = `project_id = 20, agent_name = "production"`
		var attrs map[string]tftypes.Value
		if err := req.Identity.Raw.As(&attrs); err != nil {
			resp.Diagnostics.AddError("Invalid import identity", fmt.Sprintf("The identity is not an object of a "+
				"project_id and an agent_name (%v): write it as identity = { %s }.", err, example))
			return
		}
		// project_id is read raw, as for the other resources: the framework's Int64 cannot hold 1.5 or 1e30.
		projectID, problem := identityID(attrs["project_id"])
		if problem != "" {
			addIdentityIDError(&resp.Diagnostics, "project_id", problem, example)
			return
		}
		var agentName types.String
		resp.Diagnostics.Append(req.Identity.GetAttribute(ctx, path.Root("agent_name"), &agentName)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if agentName.ValueString() == "" {
			resp.Diagnostics.AddError("Invalid import identity",
				fmt.Sprintf("The identity needs an agent_name, e.g. identity = { %s }.", example))
			return
		}
		project, name = strconv.FormatInt(projectID, 10), agentName.ValueString()
	} else {
		i := strings.LastIndex(req.ID, ":")
		if i < 0 {
			resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("import ID %q is not of the form <project>:<agent_name>, "+
				"where <project> is the numeric project ID or its full path, e.g. \"group/project:production\"", req.ID))
			return
		}
		project, name = req.ID[:i], req.ID[i+1:]
		if problem := projectProblem(project); problem != "" {
			resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("import ID %q: %s", req.ID, problem))
			return
		}
	}
	if problems := agentNameProblems(name); len(problems) > 0 {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not a valid agent name: %s", name, strings.Join(problems, "; ")))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project"), project)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("agent_name"), name)...)
}

// setAgentConfigIdentity sets the identity from the first of the states that still holds the resource
// (see keepIdentity).
func setAgentConfigIdentity(ctx context.Context, diags *diag.Diagnostics, identity *tfsdk.ResourceIdentity, states ...*tfsdk.State) {
	if identity == nil {
		return
	}
	for _, state := range states {
		if state == nil || state.Raw.IsNull() {
			continue
		}
		var projectID types.Int64
		var name types.String
		diags.Append(state.GetAttribute(ctx, path.Root("project_id"), &projectID)...)
		diags.Append(state.GetAttribute(ctx, path.Root("agent_name"), &name)...)
		if diags.HasError() {
			return
		}
		if !projectID.IsNull() && !projectID.IsUnknown() {
			diags.Append(identity.SetAttribute(ctx, path.Root("project_id"), projectID)...)
		}
		if !name.IsNull() && !name.IsUnknown() {
			diags.Append(identity.SetAttribute(ctx, path.Root("agent_name"), name)...)
		}
		return
	}
}
