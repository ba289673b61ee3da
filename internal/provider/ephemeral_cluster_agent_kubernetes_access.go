package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure = (*clusterAgentKubernetesAccess)(nil)
	_ ephemeral.EphemeralResourceWithClose     = (*clusterAgentKubernetesAccess)(nil)
)

// proxyTokenKey holds, in the ephemeral resource's private data, what Close needs to revoke the token
// Open created: its ID and secret (a token revokes itself) and its expiry date. Terraform keeps private
// data of ephemeral resources in memory for the run only: it reaches neither state nor plan files.
const proxyTokenKey = "proxy_token"

// minProxyTokenLife is the least time a new token has before it expires: GitLab ends tokens at 00:00 UTC
// of their expiry date, so one opened late in a UTC day is given the next day too.
const minProxyTokenLife = time.Hour

type proxyTokenPrivate struct {
	ID        int64  `json:"id"`
	Token     string `json:"token"`
	ExpiresOn string `json:"expires_on"`
}

func newClusterAgentKubernetesAccess() ephemeral.EphemeralResource {
	return &clusterAgentKubernetesAccess{}
}

type clusterAgentKubernetesAccess struct{ ephemeralResourceClient }

type kubernetesAccessModel struct {
	Project   types.String `tfsdk:"project"`
	AgentID   types.Int64  `tfsdk:"agent_id"`
	Host      types.String `tfsdk:"host"`
	Token     types.String `tfsdk:"token"`
	ExpiresAt types.String `tfsdk:"expires_at"`
}

func (r *clusterAgentKubernetesAccess) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_kubernetes_access"
}

func (r *clusterAgentKubernetesAccess) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Short-lived credentials for a cluster's Kubernetes API, reached through the cluster's " +
			"agent and GitLab's agent server (KAS), for the `kubernetes` and `helm` providers. Each Terraform run " +
			"creates a personal access token of the provider's own user, limited to the `k8s_proxy` scope and " +
			"expiring at the end of the (UTC) day, and revokes it when the run is done with it. Nothing of it is " +
			"written to state or plan files. Needs Terraform 1.10 or later, or OpenTofu 1.11 or later, GitLab 16.5 " +
			"or later, and the provider's user listed under the agent's `user_access`.",
		Attributes: map[string]schema.Attribute{
			"project": schema.StringAttribute{
				MarkdownDescription: "The agent's project: its numeric ID or full path (`group/subgroup/project`).",
				Required:            true,
				Validators:          []validator.String{projectValidator{}},
			},
			"agent_id": schema.Int64Attribute{
				MarkdownDescription: "ID of the agent to reach the cluster through, e.g. " +
					"`gitlabagent_cluster_agent.x.agent_id`.",
				Required:   true,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"host": schema.StringAttribute{
				MarkdownDescription: "URL of KAS's Kubernetes API proxy, as GitLab announces it in `GET /metadata` " +
					"(and `gitlabagent_kas` gives it), e.g. `https://kas.gitlab.com/k8s-proxy`: the `host` of the " +
					"`kubernetes` and `helm` providers.",
				Computed: true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Bearer token for the proxy, `pat:<agent ID>:<personal access token>`: the " +
					"`token` of the `kubernetes` and `helm` providers. Revoked when the run is done with it.",
				Computed:  true,
				Sensitive: true,
			},
			"expires_at": schema.StringAttribute{
				MarkdownDescription: "When the token stops working at the latest, even if it is never revoked " +
					"(RFC 3339, 00:00 UTC of GitLab's `expires_at` date), e.g. `2026-05-02T00:00:00Z`. Null if " +
					"GitLab gave the token no expiry date.",
				Computed: true,
			},
		},
	}
}

// Open creates the token. Nothing is created when KAS is disabled or the agent is known not to exist.
func (r *clusterAgentKubernetesAccess) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m kubernetesAccessModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client := r.client(&resp.Diagnostics)
	if client == nil {
		return
	}
	project, agentID := m.Project.ValueString(), m.AgentID.ValueInt64()
	host, err := client.KubernetesProxyURL(ctx)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if !r.checkAgent(ctx, client, project, agentID, &resp.Diagnostics) {
		return
	}

	now := r.clock().UTC()
	expiresOn := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	if expiresOn.Sub(now) < minProxyTokenLife {
		expiresOn = expiresOn.AddDate(0, 0, 1)
	}
	name := fmt.Sprintf("Terraform: Kubernetes access through agent %d", agentID)
	description := fmt.Sprintf("Created for one Terraform run by the gitlabagent provider "+
		"(gitlabagent_cluster_agent_kubernetes_access) for agent %d of project %s, and revoked at the end of the run.",
		agentID, project)
	tok, err := client.CreateKubernetesProxyToken(ctx, name, description, expiresOn)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}

	expires := expiresOn // the date GitLab ends the token on, as GitLab tells it
	if !tok.ExpiresAt.IsZero() {
		expires = tok.ExpiresAt
	}
	private, err := json.Marshal(proxyTokenPrivate{ID: tok.ID, Token: tok.Token, ExpiresOn: expires.Format(time.DateOnly)})
	if err != nil {
		resp.Diagnostics.AddError("Failed to keep the Kubernetes access token for the end of the run",
			fmt.Sprintf("Encoding what revoking personal access token %d needs failed: %v. This is a bug in the "+
				"provider, please report it.", tok.ID, err))
	} else {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, proxyTokenKey, private)...)
	}
	if !resp.Diagnostics.HasError() {
		m.Host = types.StringValue(host)
		m.Token = types.StringValue(fmt.Sprintf("pat:%d:%s", agentID, tok.Token))
		m.ExpiresAt = types.StringNull()
		if !tok.ExpiresAt.IsZero() {
			m.ExpiresAt = types.StringValue(tok.ExpiresAt.UTC().Format(time.RFC3339))
		}
		resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
	}
	if resp.Diagnostics.HasError() {
		// Terraform does not close what failed to open: revoke the token now.
		if err := client.RevokeTokenSelf(ctx, tok.Token, tok.ID); err != nil {
			warnNotRevoked(&resp.Diagnostics, tok.ID, expires.Format(time.DateOnly), err)
		}
		return
	}
	r.data.openTokens.add(tok.ID, client, tok.Token)
}

// checkAgent makes sure the agent exists before a token is created for it. The provider's user may
// reach a cluster without seeing the agent's project (user_access may authorize it through another
// project): when GitLab does not let it read the agent, a warning says the agent was not checked.
func (r *clusterAgentKubernetesAccess) checkAgent(ctx context.Context, client *gitlab.Client, project string, agentID int64, diags *diag.Diagnostics) bool {
	_, err := client.GetAgent(ctx, project, agentID)
	switch {
	case err == nil:
		return true
	case gitlab.IsNotFound(err):
		addError(diags, err)
		return false
	case gitlab.StatusCode(err) == http.StatusNotFound || gitlab.StatusCode(err) == http.StatusForbidden:
		diags.AddWarning(fmt.Sprintf("Agent %d was not checked", agentID),
			fmt.Sprintf("The provider's user may not read agent %d of project %q (%s), so whether it exists is "+
				"unknown. The token is created all the same: the Kubernetes proxy answers 401 Unauthorized if "+
				"the agent does not exist or its `user_access` does not list a project or group where the user "+
				"has the Developer role.", agentID, project, gitlab.Message(err)))
		return true
	}
	addError(diags, err)
	return false
}

// Close revokes the token Open created. A failed revoke is a warning that names the token: the run's
// work is done, and the token expires on its own.
func (r *clusterAgentKubernetesAccess) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	data, diags := req.Private.GetKey(ctx, proxyTokenKey)
	resp.Diagnostics.Append(diags...)
	if len(data) == 0 {
		return
	}
	var p proxyTokenPrivate
	if err := json.Unmarshal(data, &p); err != nil {
		resp.Diagnostics.AddWarning("A Kubernetes access token may not have been revoked",
			"The data needed to revoke the personal access token created for this run could not be read back: "+
				"it stops working at 00:00 UTC tomorrow at the latest; revoke it sooner in GitLab under User "+
				"settings > Access tokens (its name starts with \"Terraform: Kubernetes access\"). This is a bug in "+
				"the provider, please report it.")
		return
	}
	var problems diag.Diagnostics
	client := r.client(&problems)
	if client == nil {
		warnNotRevoked(&resp.Diagnostics, p.ID, p.ExpiresOn, fmt.Errorf("%s", problems[0].Detail()))
		return
	}
	r.data.openTokens.remove(p.ID)
	if err := client.RevokeTokenSelf(ctx, p.Token, p.ID); err != nil {
		warnNotRevoked(&resp.Diagnostics, p.ID, p.ExpiresOn, err)
	}
}

// warnNotRevoked reports a token that could not be revoked.
func warnNotRevoked(diags *diag.Diagnostics, tokenID int64, expiresOn string, err error) {
	detail := err.Error()
	var e *gitlab.Error
	advice := ""
	if errors.As(err, &e) {
		detail = e.Detail
		if e.Answer != nil {
			advice = "\n\n" + checkBaseURLAdvice
		}
	}
	diags.AddWarning(fmt.Sprintf("Personal access token %d was not revoked", tokenID),
		fmt.Sprintf("Revoking personal access token %d, created for this run's Kubernetes access, failed: %s "+
			"The token stops working at 00:00 UTC on %s at the latest. Its user can revoke it sooner in GitLab "+
			"under User settings > Access tokens (token ID %d), or with DELETE /personal_access_tokens/%d.",
			tokenID, detail, expiresOn, tokenID, tokenID)+advice)
}
