package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ list.ListResourceWithConfigure = (*clusterAgentURLConfigurationListResource)(nil)

func newClusterAgentURLConfigurationListResource() list.ListResource {
	return &clusterAgentURLConfigurationListResource{}
}

type clusterAgentURLConfigurationListResource struct{ resourceClient }

func (l *clusterAgentURLConfigurationListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent_url_configuration"
}

func (l *clusterAgentURLConfigurationListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Finds the URL configurations of a project's receptive agents, for `terraform query` " +
			"(Terraform 1.14 and later). Each result carries the configuration's identity (`project_id`, " +
			"`agent_id`, `url_configuration_id`). Without `agent_id`, only agents GitLab reports as receptive are " +
			"asked. GitLab never returns a client key: a generated block for an mTLS configuration needs " +
			"`client_key_wo` (or `client_key`) added before it can be applied. Needs the Maintainer role and " +
			"receptive agents enabled on the instance.",
		Attributes: map[string]listschema.Attribute{
			"project":  listProjectAttribute(),
			"agent_id": listAgentIDAttribute("URL configuration"),
		},
	}
}

func (l *clusterAgentURLConfigurationListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	receptive := func(a *gitlab.Agent) bool { return a.IsReceptive == nil || *a.IsReceptive }
	found, ok := listUnderAgents(ctx, req, stream, l.client, receptive,
		func(client *gitlab.Client, project string, agentID int64) ([]*gitlab.URLConfiguration, error) {
			return client.ListURLConfigurations(ctx, project, agentID)
		})
	if !ok {
		return
	}
	stream.Results = listResults(ctx, req, found, func(f underAgent[*gitlab.URLConfiguration], r *list.ListResult) {
		u := f.item
		r.DisplayName = fmt.Sprintf("%s (agent %d)", u.URL, u.AgentID)
		setListIdentity(ctx, r, map[string]int64{"project_id": f.projectID, "agent_id": u.AgentID, "url_configuration_id": u.ID})
		setListResource(ctx, req, r, &clusterAgentURLConfigurationModel{
			Timeouts:                   nullTimeouts(),
			ID:                         types.StringValue(stateID(f.projectID, u.AgentID, u.ID)),
			Project:                    numericProjectString(f.projectID),
			ProjectID:                  types.Int64Value(f.projectID),
			urlConfigurationAttributes: urlConfigurationToAttributes(u, urlConfigurationAttributes{}),
			ClientKey:                  types.StringNull(),
			ClientKeyWO:                types.StringNull(),
			ClientKeyWOVersion:         types.Int64Null(),
		})
	})
}
