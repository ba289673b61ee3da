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

func (l *clusterAgentTokenListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	found, ok := listUnderAgents(ctx, req, stream, l.client, nil,
		func(client *gitlab.Client, project string, agentID int64) ([]*gl.AgentToken, error) {
			return client.ActiveAgentTokens(ctx, project, agentID)
		})
	if !ok {
		return
	}
	stream.Results = listResults(ctx, req, found, func(f underAgent[*gl.AgentToken], r *list.ListResult) {
		t := f.item
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
