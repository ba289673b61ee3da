// Package gitlabstandin is a minimal stand-in for the official gitlab provider
// (registry.terraform.io/gitlabhq/gitlab), which cannot be downloaded here. The
// migration tests serve it in process under the name "gitlab"; its command,
// cmd/terraform-provider-gitlab, is the second provider the install test puts
// in a filesystem mirror beside this one.
package gitlabstandin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// gitlabStandIn is the stand-in provider. Its gitlab_cluster_agent and gitlab_cluster_agent_token have the official
// schema (attribute names, types, flags, schema version 0) and store state
// the way the official provider does: `project` as written, `id` as
// "<project>:<agent_id>[:<token_id>]", timestamps in RFC 3339 to the second,
// the token's secret from the create response.
// They talk to the mock GitLab like the official provider talks to GitLab.
type gitlabStandIn struct{}

type standInClient struct {
	baseURL string
	token   string
}

// New returns the stand-in provider, whose type name is "gitlab".
func New() provider.Provider { return gitlabStandIn{} }

func (gitlabStandIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "gitlab"
}

func (gitlabStandIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{Attributes: map[string]providerschema.Attribute{
		"base_url": providerschema.StringAttribute{Optional: true},
		"token":    providerschema.StringAttribute{Optional: true, Sensitive: true},
	}}
}

func (gitlabStandIn) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var c struct {
		BaseURL types.String `tfsdk:"base_url"`
		Token   types.String `tfsdk:"token"`
	}
	resp.Diagnostics.Append(req.Config.Get(ctx, &c)...)
	client := &standInClient{baseURL: strings.TrimSuffix(c.BaseURL.ValueString(), "/"), token: c.Token.ValueString()}
	resp.ResourceData = client
}

func (gitlabStandIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &standInAgent{} },
		func() resource.Resource { return &standInToken{} },
	}
}

func (gitlabStandIn) DataSources(context.Context) []func() datasource.DataSource { return nil }

// do sends one request to the mock GitLab and decodes its JSON answer.
func (c *standInClient) do(ctx context.Context, method, p string, body, out any) error {
	var reader *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(b)
	} else {
		reader = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+p, reader)
	if err != nil {
		return err
	}
	req.Header.Set("PRIVATE-TOKEN", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s", method, p, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func configuredClient(data any) *standInClient {
	c, _ := data.(*standInClient)
	return c
}

// officialTime is how the official provider stores GitLab's timestamps.
func officialTime(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.Format(time.RFC3339))
}

func int64Computed() schema.Int64Attribute {
	return schema.Int64Attribute{Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}}
}

// sdkID is the SDKv2 provider's implicit id: optional and computed.
func sdkID() schema.StringAttribute {
	id := stringComputed()
	id.Optional = true
	return id
}

func stringComputed() schema.StringAttribute {
	return schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
}

func stringForceNew(required bool) schema.StringAttribute {
	return schema.StringAttribute{Required: required, Optional: !required,
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}}
}

type standInAgent struct{ client *standInClient }

type standInAgentModel struct {
	ID              types.String `tfsdk:"id"`
	Project         types.String `tfsdk:"project"`
	Name            types.String `tfsdk:"name"`
	AgentID         types.Int64  `tfsdk:"agent_id"`
	CreatedAt       types.String `tfsdk:"created_at"`
	CreatedByUserID types.Int64  `tfsdk:"created_by_user_id"`
}

type gitlabAgentJSON struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	CreatedAt       *time.Time `json:"created_at"`
	CreatedByUserID int64      `json:"created_by_user_id"`
}

func (r *standInAgent) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "gitlab_cluster_agent"
}

func (r *standInAgent) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":                 sdkID(),
		"project":            stringForceNew(true),
		"name":               stringForceNew(true),
		"agent_id":           int64Computed(),
		"created_at":         stringComputed(),
		"created_by_user_id": int64Computed(),
	}}
}

func (r *standInAgent) Configure(_ context.Context, req resource.ConfigureRequest, _ *resource.ConfigureResponse) {
	r.client = configuredClient(req.ProviderData)
}

func (m *standInAgentModel) set(a gitlabAgentJSON) {
	m.ID = types.StringValue(m.Project.ValueString() + ":" + strconv.FormatInt(a.ID, 10))
	m.Name = types.StringValue(a.Name)
	m.AgentID = types.Int64Value(a.ID)
	m.CreatedAt = officialTime(a.CreatedAt)
	m.CreatedByUserID = types.Int64Value(a.CreatedByUserID)
}

func (r *standInAgent) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m standInAgentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	var a gitlabAgentJSON
	p := "/projects/" + url.PathEscape(m.Project.ValueString()) + "/cluster_agents"
	if err := r.client.do(ctx, http.MethodPost, p, map[string]string{"name": m.Name.ValueString()}, &a); err != nil {
		resp.Diagnostics.AddError("register agent", err.Error())
		return
	}
	m.set(a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *standInAgent) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m standInAgentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	var a gitlabAgentJSON
	p := fmt.Sprintf("/projects/%s/cluster_agents/%d", url.PathEscape(m.Project.ValueString()), m.AgentID.ValueInt64())
	if err := r.client.do(ctx, http.MethodGet, p, nil, &a); err != nil {
		resp.Diagnostics.AddError("read agent", err.Error())
		return
	}
	m.set(a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *standInAgent) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}

func (r *standInAgent) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m standInAgentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	p := fmt.Sprintf("/projects/%s/cluster_agents/%d", url.PathEscape(m.Project.ValueString()), m.AgentID.ValueInt64())
	if err := r.client.do(ctx, http.MethodDelete, p, nil, nil); err != nil {
		resp.Diagnostics.AddError("delete agent", err.Error())
	}
}

type standInToken struct{ client *standInClient }

type standInTokenModel struct {
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

type gitlabTokenJSON struct {
	ID              int64      `json:"id"`
	AgentID         int64      `json:"agent_id"`
	Name            string     `json:"name"`
	Description     *string    `json:"description"`
	Status          string     `json:"status"`
	Token           string     `json:"token"`
	CreatedAt       *time.Time `json:"created_at"`
	CreatedByUserID int64      `json:"created_by_user_id"`
	LastUsedAt      *time.Time `json:"last_used_at"`
}

func (r *standInToken) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "gitlab_cluster_agent_token"
}

func (r *standInToken) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	token := stringComputed()
	token.Sensitive = true
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":      sdkID(),
		"project": stringForceNew(true),
		"agent_id": schema.Int64Attribute{Required: true,
			PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}},
		"name":               stringForceNew(true),
		"description":        stringForceNew(false),
		"token_id":           int64Computed(),
		"token":              token,
		"status":             stringComputed(),
		"created_at":         stringComputed(),
		"created_by_user_id": int64Computed(),
		"last_used_at":       stringComputed(),
	}}
}

func (r *standInToken) Configure(_ context.Context, req resource.ConfigureRequest, _ *resource.ConfigureResponse) {
	r.client = configuredClient(req.ProviderData)
}

func (m *standInTokenModel) set(t gitlabTokenJSON) {
	m.ID = types.StringValue(fmt.Sprintf("%s:%d:%d", m.Project.ValueString(), t.AgentID, t.ID))
	m.AgentID = types.Int64Value(t.AgentID)
	m.TokenID = types.Int64Value(t.ID)
	m.Name = types.StringValue(t.Name)
	// Kept as configured: null when unset. (The SDKv2 versions stored "",
	// which only the legacy type system allows; moving such state is tested
	// through the protocol, in TestMoveResourceState.)
	if !m.Description.IsNull() {
		m.Description = types.StringPointerValue(t.Description)
	}
	m.Status = types.StringValue(t.Status)
	m.CreatedAt = officialTime(t.CreatedAt)
	m.CreatedByUserID = types.Int64Value(t.CreatedByUserID)
	m.LastUsedAt = officialTime(t.LastUsedAt)
}

func (r *standInToken) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m standInTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := map[string]string{"name": m.Name.ValueString()}
	if !m.Description.IsNull() {
		body["description"] = m.Description.ValueString()
	}
	var t gitlabTokenJSON
	p := fmt.Sprintf("/projects/%s/cluster_agents/%d/tokens", url.PathEscape(m.Project.ValueString()), m.AgentID.ValueInt64())
	if err := r.client.do(ctx, http.MethodPost, p, body, &t); err != nil {
		resp.Diagnostics.AddError("create token", err.Error())
		return
	}
	m.set(t)
	m.Token = types.StringValue(t.Token) // only the create response has it
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *standInToken) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m standInTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	var t gitlabTokenJSON
	p := fmt.Sprintf("/projects/%s/cluster_agents/%d/tokens/%d", url.PathEscape(m.Project.ValueString()),
		m.AgentID.ValueInt64(), m.TokenID.ValueInt64())
	if err := r.client.do(ctx, http.MethodGet, p, nil, &t); err != nil {
		resp.Diagnostics.AddError("read token", err.Error())
		return
	}
	m.set(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *standInToken) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}

func (r *standInToken) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m standInTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	p := fmt.Sprintf("/projects/%s/cluster_agents/%d/tokens/%d", url.PathEscape(m.Project.ValueString()),
		m.AgentID.ValueInt64(), m.TokenID.ValueInt64())
	if err := r.client.do(ctx, http.MethodDelete, p, nil, nil); err != nil {
		resp.Diagnostics.AddError("revoke token", err.Error())
	}
}
