package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
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
	_ resource.ResourceWithConfigure      = (*clusterAgentURLConfigurationResource)(nil)
	_ resource.ResourceWithImportState    = (*clusterAgentURLConfigurationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*clusterAgentURLConfigurationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*clusterAgentURLConfigurationResource)(nil)
	_ resource.ResourceWithIdentity       = (*clusterAgentURLConfigurationResource)(nil)
)

// Authentication modes of a URL configuration.
const (
	authTypeJWT  = "jwt"
	authTypeMTLS = "mtls"
)

// urlConfigurationResourceType is the resource type, for the commands errors suggest.
const urlConfigurationResourceType = "gitlabagent_cluster_agent_url_configuration"

func newClusterAgentURLConfigurationResource() resource.Resource {
	return &clusterAgentURLConfigurationResource{}
}

type clusterAgentURLConfigurationResource struct{ resourceClient }

// urlConfigurationAttributes is what GitLab tells about a URL configuration,
// never the client key; shared by the resource, the data source and the list
// data source's elements.
type urlConfigurationAttributes struct {
	URLConfigurationID types.Int64  `tfsdk:"url_configuration_id"`
	AgentID            types.Int64  `tfsdk:"agent_id"`
	URL                types.String `tfsdk:"url"`
	CACert             types.String `tfsdk:"ca_cert"`
	TLSHost            types.String `tfsdk:"tls_host"`
	ClientCert         types.String `tfsdk:"client_cert"`
	PublicKey          types.String `tfsdk:"public_key"`
	AuthType           types.String `tfsdk:"auth_type"`
}

type clusterAgentURLConfigurationModel struct {
	ID        types.String `tfsdk:"id"`
	Project   types.String `tfsdk:"project"`
	ProjectID types.Int64  `tfsdk:"project_id"`
	urlConfigurationAttributes
	ClientKey          types.String   `tfsdk:"client_key"`
	ClientKeyWO        types.String   `tfsdk:"client_key_wo"`
	ClientKeyWOVersion types.Int64    `tfsdk:"client_key_wo_version"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

// urlConfigurationToAttributes maps GitLab's configuration onto the shared
// attributes. Certificates come as PEM whatever form GitLab answered in
// (GitLab 17.x answers Base64; the client decodes it), and are compared with
// prior by the certificates they hold: the same certificates keep prior's
// spelling (line wrapping, line endings, text around the blocks), so that
// neither GitLab's form nor its normalising of PEM ever plans a replacement.
// A host differing from prior only in surrounding white space keeps prior's.
func urlConfigurationToAttributes(u *gitlab.URLConfiguration, prior urlConfigurationAttributes) urlConfigurationAttributes {
	return urlConfigurationAttributes{
		URLConfigurationID: types.Int64Value(u.ID),
		AgentID:            types.Int64Value(u.AgentID),
		URL:                types.StringValue(u.URL),
		CACert:             sameCertificatesOr(prior.CACert, u.CACert),
		TLSHost:            sameTextOr(prior.TLSHost, u.TLSHost),
		ClientCert:         sameCertificatesOr(prior.ClientCert, u.ClientCert),
		PublicKey:          types.StringPointerValue(u.PublicKey),
		AuthType:           types.StringValue(u.AuthType()),
	}
}

func sameTextOr(prior types.String, got *string) types.String {
	if got != nil && !prior.IsNull() && !prior.IsUnknown() && normalizeText(prior.ValueString()) == normalizeText(*got) {
		return prior
	}
	return types.StringPointerValue(got)
}

func sameCertificatesOr(prior types.String, got *string) types.String {
	if got != nil && !prior.IsNull() && !prior.IsUnknown() && gitlab.SameCertificates(prior.ValueString(), *got) {
		return prior
	}
	return sameTextOr(prior, got)
}

func normalizeText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

func (r *clusterAgentURLConfigurationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_url_configuration"
}

// IdentitySchema names the object by project_id, agent_id and url_configuration_id (Terraform 1.12 and later).
func (r *clusterAgentURLConfigurationResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identitySchema("agent_id", "url_configuration_id")
}

// The client key attributes follow one rule: a value differing from a known
// prior value replaces the configuration (GitLab cannot update it), but the
// first value after an import, where the prior value is null because GitLab
// never returns the key, is only recorded in state.
const firstValueNote = " After `terraform import` it is null in state (GitLab never returns the key), and setting it " +
	"then only records it in state, without replacing the configuration."

func (r *clusterAgentURLConfigurationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock(ctx)},
		MarkdownDescription: "Makes a GitLab agent for Kubernetes **receptive**: instead of the agent connecting to " +
			"GitLab, GitLab connects to the agent at `url`. GitLab authenticates to the agent either with JWTs " +
			"signed by a key pair GitLab generates (`auth_type = \"jwt\"`: give `public_key` to the agent) or with a " +
			"client certificate (`auth_type = \"mtls\"`: set `client_cert` and its key, `client_key` or, with " +
			"Terraform 1.11 and later, the write-only `client_key_wo`).\n\n" +
			"Receptive agents need GitLab Enterprise Edition 17.4 or later, self-managed, with an Ultimate licence " +
			"and the instance setting `receptive_cluster_agents_enabled` turned on (Admin > Settings > General > " +
			"GitLab agent for Kubernetes). Where one of these is missing, every operation fails with an error " +
			"naming it, and a configuration in state stays there (`terraform state rm` forgets it, if that is what " +
			"you want). Every request needs the Maintainer role on the project, reads included.\n\n" +
			"Write certificates and the key as PEM on every GitLab version. GitLab EE 17.x takes and returns them " +
			"Base64-encoded: the provider sends raw PEM (or the form it already saw this GitLab use), sends the " +
			"create once more Base64-encoded when GitLab refuses it as not valid PEM (a refused create creates " +
			"nothing), and compares GitLab's answers with the configuration by the certificates they hold, so the " +
			"form never shows as a change.\n\n" +
			"An agent has at most one URL configuration. GitLab cannot update one, so changing any input replaces " +
			"it (except `project` written another way, and the first client key set after an import). Inputs are " +
			"checked at plan time as GitLab would: the URL scheme, the certificates, the key and that it belongs " +
			"to `client_cert`, the TLS host name.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<project_id>:<agent_id>:<url_configuration_id>`, with the numeric project ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project":    projectAttribute(),
			"project_id": projectIDAttribute(),
			"agent_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the agent to make receptive, e.g. `gitlabagent_cluster_agent.x.agent_id`. " +
					"Changing it replaces the configuration.",
				Required:      true,
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "Where GitLab connects to the agent: a `grpcs://` (gRPC over TLS) or `grpc://` URL " +
					"with a host, e.g. `grpcs://agent.example.com:4242`. Changing it replaces the configuration.",
				Required:      true,
				Validators:    []validator.String{agentURL()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"ca_cert": schema.StringAttribute{
				MarkdownDescription: "PEM CA certificate(s) GitLab verifies the agent's server certificate with; " +
					"unset, the system's CAs. Changing it replaces the configuration.",
				Optional:      true,
				Validators:    []validator.String{pemCertificates()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"tls_host": schema.StringAttribute{
				MarkdownDescription: "Server name GitLab expects in the agent's certificate, when it differs from the " +
					"host of `url`: a bare host name such as `agent.example.com`, without scheme, port or path. " +
					"Changing it replaces the configuration.",
				Optional:      true,
				Validators:    []validator.String{tlsHostName()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"client_cert": schema.StringAttribute{
				MarkdownDescription: "PEM client certificate GitLab presents to the agent (mTLS); the certificate " +
					"comes first, then any intermediates. Requires exactly one of `client_key` and `client_key_wo`, " +
					"whose key must belong to this certificate. Unset, GitLab authenticates with JWTs instead. " +
					"Changing it replaces the configuration.",
				Optional:      true,
				Validators:    []validator.String{pemCertificates()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"client_key": schema.StringAttribute{
				MarkdownDescription: "PEM private key of `client_cert` (PKCS#1, PKCS#8 or SEC 1, unencrypted). " +
					"**Sensitive**: kept in state, never shown in plans, never logged. GitLab never returns it, so " +
					"it is sent once, at creation, and never read back. Changing it replaces the configuration." +
					firstValueNote + " With Terraform 1.11 and later, prefer `client_key_wo`, which never enters state.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{pemPrivateKey()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
						resp.RequiresReplace = !req.StateValue.IsNull()
					},
					"Changing the key replaces the configuration, except the first value after an import.",
					"Changing the key replaces the configuration, except the first value after an import.",
				)},
			},
			"client_key_wo": schema.StringAttribute{
				MarkdownDescription: "PEM private key of `client_cert`, like `client_key` but **write-only** " +
					"(Terraform 1.11 and later): sent to GitLab at creation and never stored in the plan or state. " +
					"Terraform cannot see changes to it: change `client_key_wo_version` to replace the configuration " +
					"with a new key. Conflicts with `client_key`.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{pemPrivateKey()},
			},
			"client_key_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Any number; changing it replaces the configuration, sending the current " +
					"`client_key_wo` to GitLab. Requires `client_key_wo`." + firstValueNote,
				Optional: true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
						resp.RequiresReplace = !req.StateValue.IsNull()
					},
					"Changing the version replaces the configuration, except the first value after an import.",
					"Changing the version replaces the configuration, except the first value after an import.",
				)},
			},
			"url_configuration_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the URL configuration.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"public_key": schema.StringAttribute{
				MarkdownDescription: "With JWT authentication, the Base64 Ed25519 public key (32 bytes) of the key " +
					"pair GitLab signs its JWTs with: configure the agent to trust it. Null with mTLS.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"auth_type": schema.StringAttribute{
				MarkdownDescription: "How GitLab authenticates to the agent: `mtls` when `client_cert` is set, " +
					"else `jwt`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

// ValidateConfig checks what involves several attributes: the client
// certificate and its key. Write-only values are available here. Unknown
// values are left for later.
func (r *clusterAgentURLConfigurationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m clusterAgentURLConfigurationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cert, key, keyWO, version := m.ClientCert, m.ClientKey, m.ClientKeyWO, m.ClientKeyWOVersion

	if !key.IsNull() && !keyWO.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("client_key_wo"), "Conflicting client keys",
			"`client_key` and `client_key_wo` are both set: set only one. `client_key_wo` (Terraform 1.11 and "+
				"later) keeps the key out of the plan and state; `client_key` stores it in state as a sensitive value.")
	}
	if !version.IsNull() && keyWO.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("client_key_wo_version"), "client_key_wo_version without client_key_wo",
			"`client_key_wo_version` only tells Terraform when `client_key_wo` changed: set `client_key_wo` to the "+
				"client key, or remove `client_key_wo_version`.")
	}
	switch {
	case cert.IsNull():
		for _, k := range []struct {
			name  string
			value types.String
		}{{"client_key", key}, {"client_key_wo", keyWO}} {
			if !k.value.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root(k.name), "Client key without client_cert",
					fmt.Sprintf("`%s` is set but `client_cert` is not. A client key is only for mTLS, together with "+
						"the certificate it belongs to: set `client_cert` as well, or remove `%s` to let GitLab "+
						"authenticate with JWTs (auth_type \"jwt\").", k.name, k.name))
			}
		}
	case cert.IsUnknown():
	case key.IsNull() && keyWO.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("client_cert"), "client_cert without its key",
			"`client_cert` is set but no client key: GitLab needs the certificate's private key for mTLS. Set "+
				"`client_key_wo` (Terraform 1.11 and later, never stored in state) or `client_key` to the PEM private "+
				"key of the certificate, or remove `client_cert` to use JWT authentication.")
	default:
		keyPath, keyValue := path.Root("client_key"), key
		if key.IsNull() {
			keyPath, keyValue = path.Root("client_key_wo"), keyWO
		}
		if keyValue.IsUnknown() {
			return
		}
		certificate, err := firstPEMCertificate(cert.ValueString())
		if err != nil {
			return // reported by the attribute's validator
		}
		signer, err := parsePEMPrivateKey(keyValue.ValueString())
		if err != nil {
			return // reported by the attribute's validator
		}
		if !keyMatchesCertificate(signer, certificate) {
			resp.Diagnostics.AddAttributeError(keyPath, "Client key does not match client_cert",
				fmt.Sprintf("The private key in `%s` does not belong to the certificate in `client_cert` (subject %q, "+
					"serial %s): their public keys differ, so GitLab could not authenticate with them. Give the key "+
					"the certificate was issued for, or the certificate issued for this key.",
					keyPath.String(), certificate.Subject.String(), certificate.SerialNumber.String()))
		}
	}
}

func (r *clusterAgentURLConfigurationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	r.planProjectChange(ctx, req, resp)
	if !req.State.Raw.IsNull() {
		return
	}
	// Creating (or re-creating): the mode follows from client_cert, so plan
	// auth_type, and public_key's null in mTLS mode, as known values.
	var clientCert types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("client_cert"), &clientCert)...)
	if resp.Diagnostics.HasError() || clientCert.IsUnknown() {
		return
	}
	if clientCert.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("auth_type"), types.StringValue(authTypeJWT))...)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("auth_type"), types.StringValue(authTypeMTLS))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("public_key"), types.StringNull())...)
}

func (r *clusterAgentURLConfigurationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan clusterAgentURLConfigurationModel
	var keyWO types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("client_key_wo"), &keyWO)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	defer cancel()
	project := plan.Project.ValueString()
	// Resolved before the POST, whose answer does not carry the project.
	projectID, err := client.ProjectID(ctx, project)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	opt := &gitlab.CreateURLConfigurationOptions{
		URL:        plan.URL.ValueString(),
		ClientCert: plan.ClientCert.ValueStringPointer(),
		CACert:     plan.CACert.ValueStringPointer(),
		TLSHost:    plan.TLSHost.ValueStringPointer(),
		ClientKey:  plan.ClientKey.ValueStringPointer(),
	}
	if opt.ClientKey == nil {
		opt.ClientKey = keyWO.ValueStringPointer()
	}
	u, recovered, err := client.CreateOrRecoverURLConfiguration(ctx, project, plan.AgentID.ValueInt64(), opt)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if recovered {
		resp.Diagnostics.AddWarning("GitLab's answer was lost; the URL configuration was found",
			fmt.Sprintf("The request creating the URL configuration of agent %d got no usable answer, so it was "+
				"not repeated. The agent's URL configurations were checked instead: GitLab had created it as URL "+
				"configuration %d, with the URL and certificates requested, which is now in state.",
				u.AgentID, u.ID))
	}
	plan.urlConfigurationAttributes = urlConfigurationToAttributes(u, plan.urlConfigurationAttributes)
	plan.ProjectID = types.Int64Value(projectID)
	plan.ID = types.StringValue(stateID(projectID, u.AgentID, u.ID))
	plan.ClientKeyWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read refreshes what GitLab tells about the configuration; the client key
// (never returned by GitLab) stays as it is in state.
func (r *clusterAgentURLConfigurationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State, &req.State)
	var state clusterAgentURLConfigurationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	imported := state.ProjectID.IsNull() || state.ProjectID.IsUnknown()
	projectID, err := stateProjectID(ctx, client, state.Project, state.ProjectID)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	agentID, id := state.AgentID.ValueInt64(), state.URLConfigurationID.ValueInt64()
	u, err := client.GetURLConfiguration(ctx, strconv.FormatInt(projectID, 10), agentID, id)
	if gitlab.IsNotFound(err) {
		resp.Diagnostics.AddWarning("URL configuration no longer exists",
			fmt.Sprintf("URL configuration %d of agent %d in project %q was not found in GitLab (deleted, or its "+
				"agent was), so it is removed from state and the next plan creates it again.%s",
				id, agentID, state.Project.ValueString(), goneDetail(err)))
		resp.State.RemoveResource(ctx)
		return
	}
	if gitlab.IsUnavailable(err) {
		addUnavailableError(&resp.Diagnostics, err, "refresh", id, agentID)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	state.urlConfigurationAttributes = urlConfigurationToAttributes(u, state.urlConfigurationAttributes)
	state.ProjectID = types.Int64Value(projectID)
	state.ID = types.StringValue(stateID(projectID, u.AgentID, u.ID))
	state.ClientKeyWO = types.StringNull()
	if imported && u.ClientCert != nil && state.ClientKey.IsNull() {
		resp.Diagnostics.AddAttributeWarning(path.Root("client_key"), "Client key not imported",
			fmt.Sprintf("URL configuration %d of agent %d uses mTLS, and GitLab never returns its client key, so "+
				"the key cannot be imported: `client_key` stays null in state, while the configuration keeps "+
				"working in GitLab. Set the key in configuration, as `client_key_wo` with `client_key_wo_version` "+
				"(Terraform 1.11 and later, never stored in state) or as `client_key`: the next apply records it "+
				"without replacing the configuration. A key that does not match `client_cert` fails at plan time.",
				id, agentID))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// goneDetail is " " and the explanation of a GitLab error, or "".
func goneDetail(err error) string {
	var e *gitlab.Error
	if errors.As(err, &e) && e.Detail != "" {
		return " " + e.Detail
	}
	return ""
}

// Update happens only for changes GitLab does not see: `project` written
// another way for the same project, `timeouts`, and the first client key (or
// key version) set after an import. Nothing is sent to GitLab.
func (r *clusterAgentURLConfigurationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer keepIdentity(ctx, &resp.Diagnostics, resp.Identity, &resp.State)
	var plan, state clusterAgentURLConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Project = plan.Project
	state.ClientKey = plan.ClientKey
	state.ClientKeyWOVersion = plan.ClientKeyWOVersion
	state.ClientKeyWO = types.StringNull()
	state.Timeouts = plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete deletes the configuration; one already gone is fine.
func (r *clusterAgentURLConfigurationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterAgentURLConfigurationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	defer cancel()
	agentID, id := state.AgentID.ValueInt64(), state.URLConfigurationID.ValueInt64()
	err := client.DeleteURLConfiguration(ctx, apiProject(state.Project, state.ProjectID), agentID, id)
	switch {
	case gitlab.IsUnavailable(err):
		addUnavailableError(&resp.Diagnostics, err, "delete", id, agentID)
	case err != nil:
		addError(&resp.Diagnostics, err)
	}
}

// addUnavailableError reports that GitLab no longer serves URL configurations
// (edition, licence or setting) while a configuration is in state: the
// configuration is not taken for deleted, state stays as it is, and the user
// is told how to make Terraform forget it if that is what they want.
func addUnavailableError(diags *diag.Diagnostics, err error, action string, id, agentID int64) {
	var e *gitlab.Error
	if !errors.As(err, &e) {
		addError(diags, err)
		return
	}
	diags.AddError(e.Summary, fmt.Sprintf("%s\n\nTerraform could not %s URL configuration %d of agent %d, and does "+
		"not take GitLab's 404 for a deletion: the configuration may still exist, and state is left as it is. Once "+
		"receptive agents are available again, run again. If you really want Terraform to forget the "+
		"configuration (it stays in GitLab, if it is there), remove it from state:\n"+
		"  terraform state rm %s.<name>", e.Detail, action, id, agentID, urlConfigurationResourceType))
}

// ImportState accepts "<project>:<agent_id>:<url_configuration_id>"; Read
// fills in the rest, and warns when an mTLS configuration's key is missing.
func (r *clusterAgentURLConfigurationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp, "agent_id", "url_configuration_id")
}
