package provider

import (
	"context"
	"errors"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// List resources (Terraform 1.14 and later: `terraform query`) find what
// exists in GitLab and hand each object over with its identity and, when
// asked, its state, from which `terraform query -generate-config-out`
// writes a resource block and an import block. The project in that state is
// the numeric project ID, as in the identity, so that the generated
// configuration imports without any change planned.

// listProjectAttribute is the `project` argument of every list resource.
func listProjectAttribute() listschema.StringAttribute {
	return listschema.StringAttribute{
		MarkdownDescription: "The project to look in: its numeric ID or its full path (`group/subgroup/project`).",
		Required:            true,
		Validators:          []validator.String{projectValidator{}},
	}
}

// listResults streams one result per item, at most limit (0: no limit), and
// stops when Terraform wants no more. result fills a new result from an item.
func listResults[T any](ctx context.Context, req list.ListRequest, items []T, result func(T, *list.ListResult)) func(func(list.ListResult) bool) {
	return func(push func(list.ListResult) bool) {
		for i, item := range items {
			if req.Limit > 0 && int64(i) >= req.Limit {
				return
			}
			r := req.NewListResult(ctx)
			result(item, &r)
			if !push(r) {
				return
			}
		}
	}
}

// setListIdentity sets a list result's identity from the named IDs.
func setListIdentity(ctx context.Context, r *list.ListResult, ids map[string]int64) {
	for name, id := range ids {
		r.Diagnostics.Append(r.Identity.SetAttribute(ctx, path.Root(name), types.Int64Value(id))...)
	}
}

// setListResource sets a list result's resource state, when Terraform asked
// for it.
func setListResource(ctx context.Context, req list.ListRequest, r *list.ListResult, model any) {
	if req.IncludeResource {
		r.Diagnostics.Append(r.Resource.Set(ctx, model)...)
	}
}

// listError ends a list with the error diagnostics.
func listError(stream *list.ListResultsStream, diags diag.Diagnostics) {
	stream.Results = list.ListResultsStreamDiagnostics(diags)
}

// numericProjectString is the project as its numeric ID, the way list
// results write it.
func numericProjectString(projectID int64) types.String {
	return types.StringValue(strconv.FormatInt(projectID, 10))
}

// underAgent is an object a list found under an agent, with the numeric ID of
// the agent's project.
type underAgent[T any] struct {
	projectID int64
	item      T
}

// listUnderAgents reads a list's configuration (agentListConfig) and collects
// what fetch finds under the agent the list is for or, without agent_id,
// under every agent of the project that keep keeps (nil: all), agent after
// agent until it has the list's limit. On an error it ends the stream with
// it and returns false.
func listUnderAgents[T any](ctx context.Context, req list.ListRequest, stream *list.ListResultsStream,
	clientOf func(*diag.Diagnostics) *gitlab.Client, keep func(*gitlab.Agent) bool,
	fetch func(client *gitlab.Client, project string, agentID int64) ([]T, error),
) ([]underAgent[T], bool) {
	var cfg agentListConfig
	diags := req.Config.Get(ctx, &cfg)
	client := clientOf(&diags)
	if diags.HasError() {
		listError(stream, diags)
		return nil, false
	}
	var found []underAgent[T]
	collect := func(projectID, agentID int64) error {
		items, err := fetch(client, cfg.Project.ValueString(), agentID)
		for _, item := range items {
			found = append(found, underAgent[T]{projectID: projectID, item: item})
		}
		if err == nil && req.Limit > 0 && int64(len(found)) >= req.Limit {
			return errListFull
		}
		return err
	}
	err := forEachListedAgent(ctx, client, cfg, keep, collect)
	if err != nil && !errors.Is(err, errListFull) {
		addError(&diags, err)
		listError(stream, diags)
		return nil, false
	}
	return found, true
}

// errListFull stops a list that has found as many objects as asked for.
var errListFull = errors.New("the list has its limit")

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
