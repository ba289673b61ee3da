package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// addScopeAttributes adds to a data source's schema the attributes that say
// where it reads: the `project` input and the computed `project_id` that
// every data source has and, for the data sources of an agent's tokens and
// URL configurations, the `agent_id` input.
func addScopeAttributes(attributes map[string]schema.Attribute, agent bool) {
	attributes["project"] = schema.StringAttribute{
		MarkdownDescription: "The project: its numeric ID or full path (`group/subgroup/project`).",
		Required:            true,
		Validators:          []validator.String{projectValidator{}},
	}
	attributes["project_id"] = schema.Int64Attribute{
		MarkdownDescription: "Numeric ID of the project.",
		Computed:            true,
	}
	if agent {
		attributes["agent_id"] = schema.Int64Attribute{
			MarkdownDescription: "ID of the agent.",
			Required:            true,
			Validators:          []validator.Int64{int64validator.AtLeast(1)},
		}
	}
}
