package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
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
