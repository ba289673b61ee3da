package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var _ list.ListResourceWithConfigure = (*clusterAgentListResource)(nil)

func newClusterAgentListResource() list.ListResource { return &clusterAgentListResource{} }

type clusterAgentListResource struct{ resourceClient }

type clusterAgentListModel struct {
	Project    types.String `tfsdk:"project"`
	NamePrefix types.String `tfsdk:"name_prefix"`
}

func (l *clusterAgentListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_agent"
}

func (l *clusterAgentListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Finds the agents for Kubernetes registered in a project, in name order, for " +
			"`terraform query` (Terraform 1.14 and later). Each result is named by the agent's name and carries " +
			"its identity (`project_id`, `agent_id`); `terraform query -generate-config-out=generated.tf` writes " +
			"a `gitlabagent_cluster_agent` block and an import block for each, with `project` as the numeric " +
			"project ID.",
		Attributes: map[string]listschema.Attribute{
			"project": listProjectAttribute(),
			"name_prefix": listschema.StringAttribute{
				MarkdownDescription: "Only agents whose name starts with this, e.g. `\"prod-\"`. Unset, every agent.",
				Optional:            true,
			},
		},
	}
}

func (l *clusterAgentListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg clusterAgentListModel
	diags := req.Config.Get(ctx, &cfg)
	client := l.client(&diags)
	if diags.HasError() {
		listError(stream, diags)
		return
	}
	// Pages are read until the list has its limit.
	var matching []*gitlab.Agent
	err := client.ScanAgents(ctx, cfg.Project.ValueString(), func(page []gitlab.Agent) bool {
		for i := range page {
			if strings.HasPrefix(page[i].Name, cfg.NamePrefix.ValueString()) {
				matching = append(matching, &page[i])
			}
		}
		return req.Limit <= 0 || int64(len(matching)) < req.Limit
	})
	if err != nil {
		addError(&diags, err)
		listError(stream, diags)
		return
	}
	stream.Results = listResults(ctx, req, matching, func(a *gitlab.Agent, r *list.ListResult) {
		r.DisplayName = a.Name
		setListIdentity(ctx, r, map[string]int64{"project_id": a.ConfigProject.ID, "agent_id": a.ID})
		m := clusterAgentResourceModel{Timeouts: nullTimeouts()}
		m.Project = numericProjectString(a.ConfigProject.ID)
		agentToModel(a, &m.clusterAgentModel)
		setListResource(ctx, req, r, &m)
	})
}
