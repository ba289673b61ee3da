package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ list.ListResourceWithConfigure = (*clusterAgentTokenListResource)(nil)

func newClusterAgentTokenListResource() list.ListResource { return &clusterAgentTokenListResource{} }

type clusterAgentTokenListResource struct{ resourceClient }

type agentListConfig struct {
	Project types.String `tfsdk:"project"`
	AgentID types.Int64  `tfsdk:"agent_id"`
}

func (l *clusterAgentTokenListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_token"
}

// listAgentIDAttribute is the `agent_id` argument of the token and URL
// configuration list resources.
func listAgentIDAttribute(what string) listschema.Int64Attribute {
	return listschema.Int64Attribute{
		MarkdownDescription: "Only the " + what + " of this agent. Unset, those of every agent of the project.",
		Optional:            true,
		Validators:          []validator.Int64{int64validator.AtLeast(1)},
	}
}

func (l *clusterAgentTokenListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Finds the active tokens of a project's agents, for `terraform query` (Terraform 1.14 " +
			"and later). Each result carries the token's identity (`project_id`, `agent_id`, `token_id`). GitLab " +
			"never shows a token's secret again, so a token adopted this way has a null `token`, like an imported " +
			"one: replace it once to have Terraform hold a secret.",
		Attributes: map[string]listschema.Attribute{
			"project":  listProjectAttribute(),
			"agent_id": listAgentIDAttribute("tokens"),
		},
	}
}

// agentToken is a token found by a list, with what the result needs.
type agentToken struct {
	projectID int64
	token     *gl.AgentToken
}

func (l *clusterAgentTokenListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg agentListConfig
	diags := req.Config.Get(ctx, &cfg)
	client := l.client(&diags)
	if diags.HasError() {
		listError(stream, diags)
		return
	}
	var found []agentToken
	err := forEachListedAgent(ctx, client, cfg, nil, func(projectID int64, agentID int64) error {
		tokens, err := client.ActiveAgentTokens(ctx, cfg.Project.ValueString(), agentID)
		for _, t := range tokens {
			found = append(found, agentToken{projectID: projectID, token: t})
		}
		return err
	})
	if err != nil {
		addError(&diags, err)
		listError(stream, diags)
		return
	}
	stream.Results = listResults(ctx, req, found, func(f agentToken, r *list.ListResult) {
		t := f.token
		r.DisplayName = fmt.Sprintf("%s (token %d of agent %d)", t.Name, t.ID, t.AgentID)
		setListIdentity(ctx, r, map[string]int64{"project_id": f.projectID, "agent_id": t.AgentID, "token_id": t.ID})
		setListResource(ctx, req, r, &clusterAgentTokenModel{
			Timeouts:             nullTimeouts(),
			ID:                   types.StringValue(stateID(f.projectID, t.AgentID, t.ID)),
			Project:              numericProjectString(f.projectID),
			ProjectID:            types.Int64Value(f.projectID),
			agentTokenAttributes: agentTokenToAttributes(t, types.StringNull()),
			Token:                types.StringNull(),
			RotateAfter:          types.StringNull(),
			RotationTriggers:     types.MapNull(types.StringType),
		})
	})
}

// forEachListedAgent calls each with the project ID and the ID of the agent
// the list is for or, without agent_id, of every agent of the project that
// keep keeps (nil: all).
func forEachListedAgent(ctx context.Context, client *gitlab.Client, cfg agentListConfig, keep func(*gitlab.Agent) bool, each func(projectID, agentID int64) error) error {
	project := cfg.Project.ValueString()
	if !cfg.AgentID.IsNull() {
		projectID, err := client.ProjectID(ctx, project)
		if err != nil {
			return err
		}
		return each(projectID, cfg.AgentID.ValueInt64())
	}
	agents, err := client.ListAgents(ctx, project)
	if err != nil {
		return err
	}
	for _, a := range agents {
		if keep != nil && !keep(a) {
			continue
		}
		if err := each(a.ConfigProject.ID, a.ID); err != nil {
			return err
		}
	}
	return nil
}
