package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Resource identity (Terraform 1.12 and later, OpenTofu 1.12 and later): the
// numeric IDs that name an object in GitLab for good. The project is its
// numeric ID, never its path, which a rename or transfer changes. Every
// identity attribute has the name and value of the state attribute of the
// same name, so an identity is always derived from state (identityFromState).

// identityAttribute is a required identity attribute, described.
func identityAttribute(name string) identityschema.Int64Attribute {
	var description string
	switch name {
	case "project_id":
		description = "Numeric ID of the agent's project (not its path)."
	case "agent_id":
		description = "Numeric ID of the agent."
	case "token_id":
		description = "Numeric ID of the agent token."
	case "url_configuration_id":
		description = "Numeric ID of the URL configuration."
	}
	return identityschema.Int64Attribute{RequiredForImport: true, Description: description}
}

// identitySchema is an identity of the project ID and the given IDs, all
// required to import by identity.
func identitySchema(ids ...string) identityschema.Schema {
	attrs := map[string]identityschema.Attribute{"project_id": identityAttribute("project_id")}
	for _, id := range ids {
		attrs[id] = identityAttribute(id)
	}
	return identityschema.Schema{Attributes: attrs}
}

// keepIdentity sets the identity from the first of the given states that
// still holds the resource: deferred at the start of Create, Read and Update,
// it gives every response an identity, including a Read that removes the
// resource from state (the framework rejects a Read that answers with no
// identity, which a resource stored before identity existed would otherwise
// do when its object is gone). Only known values are set: right after an
// import or a move by project path, project_id is known from the first
// successful read on.
func keepIdentity(ctx context.Context, diags *diag.Diagnostics, identity *tfsdk.ResourceIdentity, states ...*tfsdk.State) {
	if identity == nil {
		return
	}
	for _, state := range states {
		if state == nil || state.Raw.IsNull() {
			continue
		}
		diags.Append(identityFromState(ctx, identity, state)...)
		return
	}
}

// identityFromState copies the known identity attributes from state.
func identityFromState(ctx context.Context, identity *tfsdk.ResourceIdentity, state *tfsdk.State) diag.Diagnostics {
	var diags diag.Diagnostics
	names := make([]string, 0, len(identity.Schema.GetAttributes()))
	for name := range identity.Schema.GetAttributes() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var v types.Int64
		diags.Append(state.GetAttribute(ctx, path.Root(name), &v)...)
		if diags.HasError() {
			return diags
		}
		if !v.IsNull() && !v.IsUnknown() {
			diags.Append(identity.SetAttribute(ctx, path.Root(name), v)...)
		}
	}
	return diags
}
