package provider

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// importByID imports from "<project>:<id>[:<id>…]", or from an identity
// (project_id and the named IDs, Terraform 1.12 and later): it sets `project`
// and the named ID attributes, leaving the rest null for the resource's Read
// to fill in (Read resolves the numeric project ID and sets `id`). It returns
// the IDs.
func importByID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, names ...string) ([]int64, bool) {
	var project string
	var ids []int64
	if req.ID == "" && req.Identity != nil {
		project, ids = identityImportIDs(ctx, req, resp, names...)
	} else {
		var err error
		if project, ids, err = parseImportID(req.ID, names...); err != nil {
			resp.Diagnostics.AddError("Invalid import ID", err.Error())
		}
	}
	if resp.Diagnostics.HasError() {
		return nil, false
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project"), project)...)
	for i, name := range names {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), ids[i])...)
	}
	return ids, !resp.Diagnostics.HasError()
}

// identityImportIDs reads an import identity: the project, as its numeric ID,
// and the named IDs. Terraform has checked that each is set; whether each
// is a GitLab ID (a whole number that fits in 64 bits, positive) is checked
// here, on the raw numbers, which the framework's Int64 cannot hold.
func identityImportIDs(_ context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, names ...string) (string, []int64) {
	var attrs map[string]tftypes.Value
	if err := req.Identity.Raw.As(&attrs); err != nil {
		resp.Diagnostics.AddError("Invalid import identity", fmt.Sprintf("The identity is not an object of "+
			"numeric IDs (%v): write it as identity = { %s }.", err, identityExample(names)))
		return "", nil
	}
	ids := make([]int64, len(names))
	var projectID int64
	for i, name := range append([]string{"project_id"}, names...) {
		id, problem := identityID(attrs[name])
		if problem != "" {
			addIdentityIDError(&resp.Diagnostics, name, problem, identityExample(names))
			return "", nil
		}
		if i == 0 {
			projectID = id
		} else {
			ids[i-1] = id
		}
	}
	return strconv.FormatInt(projectID, 10), ids
}

// addIdentityIDError says that the identity's attribute name is not a GitLab
// ID but problem (see identityID), with an example identity.
func addIdentityIDError(diags *diag.Diagnostics, name, problem, example string) {
	diags.AddError("Invalid import identity",
		fmt.Sprintf("The identity's %s is %s: it must be a GitLab ID, a whole number from 1 to %d known "+
			"at plan time, e.g. identity = { %s }.", name, problem, int64(math.MaxInt64), example))
}

// identityID reads one identity attribute as a GitLab ID, or says what it is
// instead.
func identityID(v tftypes.Value) (int64, string) {
	if v.IsNull() {
		return 0, "not set"
	}
	if !v.IsKnown() {
		return 0, "not known until apply"
	}
	var f big.Float
	if err := v.As(&f); err != nil {
		return 0, "not a number"
	}
	text := f.Text('g', 20)
	if !f.IsInt() {
		return 0, text + ", not a whole number"
	}
	n, accuracy := f.Int64()
	switch {
	case accuracy != big.Exact:
		return 0, text + ", beyond 64 bits"
	case n <= 0:
		return 0, text + ", not positive"
	}
	return n, ""
}

func identityExample(names []string) string {
	parts := []string{"project_id = 20"}
	for i, name := range names {
		parts = append(parts, fmt.Sprintf("%s = %s", name, []string{"42", "7", "3"}[i]))
	}
	return strings.Join(parts, ", ")
}

// parseImportID splits an import ID of the form "<project>:<id>[:<id>…]".
// The project comes first and may be a numeric ID or a full path (which never
// contains ':'); the numeric IDs follow, named by names for error messages.
func parseImportID(id string, names ...string) (string, []int64, error) {
	form := "<project>:<" + strings.Join(names, ">:<") + ">"
	parts := strings.Split(id, ":")
	if len(parts) != len(names)+1 {
		return "", nil, fmt.Errorf("import ID %q is not of the form %s, where <project> is the numeric project "+
			"ID or its full path, e.g. \"group/project:%s\"", id, form, exampleIDs(len(names)))
	}
	project := parts[0]
	if problem := projectProblem(project); problem != "" {
		return "", nil, fmt.Errorf("import ID %q: %s", id, problem)
	}
	ids := make([]int64, len(names))
	for i, name := range names {
		n, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err != nil || n <= 0 {
			return "", nil, fmt.Errorf("import ID %q: %s %q is not a GitLab ID, a whole number from 1 to %d; "+
				"the form is %s", id, name, parts[i+1], int64(math.MaxInt64), form)
		}
		ids[i] = n
	}
	return project, ids, nil
}

func exampleIDs(n int) string {
	examples := []string{"42", "7", "3"}
	return strings.Join(examples[:n], ":")
}

// stateID builds the synthetic id: numeric project ID and object IDs joined by ':'.
func stateID(projectID int64, ids ...int64) string {
	parts := []string{strconv.FormatInt(projectID, 10)}
	for _, id := range ids {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ":")
}
