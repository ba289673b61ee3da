package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// The GitLab layer says what failed and which of its settings the failure
// points at; this file says it to a Terraform user: the provider's attribute
// names, the commands and the configuration blocks.

// settingNames are the provider's names of the client settings a failure
// points at.
var settingNames = map[gitlab.Setting]string{
	gitlab.SettingURL:              "`base_url` (or GITLAB_BASE_URL)",
	gitlab.SettingToken:            "`token` (or GITLAB_TOKEN)",
	gitlab.SettingTLS:              "`cacert_file`, `ca_cert` and `insecure`",
	gitlab.SettingRequestTimeout:   "`request_timeout`",
	gitlab.SettingRetries:          "`retries` (with `retries = 0` a 429 is not waited out at all)",
	gitlab.SettingOperationTimeout: "the resource's `timeouts`",
	gitlab.SettingProject:          "`project` (its numeric ID or full path)",
}

// settingsAdvice names the provider settings behind the client settings a
// failure points at.
func settingsAdvice(check []gitlab.Setting) string {
	var parts []string
	for _, s := range check {
		if name, ok := settingNames[s]; ok {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Check " + strings.Join(parts, "; ") + "."
}

// kindAdvice is what a Terraform user does about a kind of failure.
func kindAdvice(e *gitlab.Error) string {
	switch e.Kind {
	case gitlab.KindReadOnlyToken:
		return "A `read_api` token is enough for `terraform plan` and data sources, not for apply."
	case gitlab.KindProjectNotFound:
		return "If the project was deleted, `terraform state rm` the resources that belonged to it."
	case gitlab.KindProjectMoved:
		return "Setting `project` to its new full path or numeric ID does not replace the resource."
	case gitlab.KindRateLimited:
		return "Run with a lower `-parallelism` if other clients share the limit."
	case gitlab.KindTokenLimit:
		return "A token of a gitlabagent_cluster_agent_token resource is revoked by removing (or replacing) that " +
			"resource. If this happened while replacing a token with `lifecycle { create_before_destroy = true }`, " +
			"use the default destroy-then-create replacement instead (remove create_before_destroy), which revokes " +
			"the old token before creating the new one."
	case gitlab.KindKASNotConfigured:
		return "The gitlabagent_kas data source tells whether it is enabled."
	case gitlab.KindCertificatesRefused:
		return "Check `client_cert`, `client_key` and `ca_cert`."
	case gitlab.KindReceptiveAgentsUnavailable:
		if e.Gap == gitlab.GapEdition || e.Gap == gitlab.GapVersion {
			return "Without them, remove the URL-configuration resources and data sources from the configuration; " +
				"agents and their tokens work without them."
		}
	case gitlab.KindURLConfigurationExists:
		if e.Existing == nil {
			return fmt.Sprintf("Find its ID with the gitlabagent_cluster_agent_url_configurations data source, then "+
				"either import it (`terraform import %s.<name> %s:%d:<url_configuration_id>`) or delete it, and apply "+
				"again.", urlConfigurationResourceType, e.Project, e.AgentID)
		}
		importID := fmt.Sprintf("%s:%d:%d", e.Project, e.AgentID, e.Existing.ID)
		return fmt.Sprintf("Either:\n"+
			"  - manage the existing configuration with Terraform by importing it into this resource:\n"+
			"      terraform import %s.<name> %s\n"+
			"    (or an `import` block with id = %q); if it uses mTLS, set its client key in configuration too; or\n"+
			"  - delete it (remove the Terraform resource that manages it, or "+
			"DELETE /projects/:id/cluster_agents/%d/url_configurations/%d) and apply again.",
			urlConfigurationResourceType, importID, importID, e.AgentID, e.Existing.ID)
	case gitlab.KindURLConfigurationUnknown:
		if e.Existing == nil {
			return fmt.Sprintf("Check agent %d with the gitlabagent_cluster_agent_url_configurations data source: "+
				"import the configuration if it exists, or run again if it does not.", e.AgentID)
		}
		return fmt.Sprintf("Import it (`terraform import %s.<name> %s:%d:%d`) or delete it, then run again.",
			urlConfigurationResourceType, e.Project, e.AgentID, e.Existing.ID)
	}
	return ""
}

// configAttributes are the provider attributes of the client's Config fields.
var configAttributes = map[string]string{
	"BaseURL": "base_url", "Token": "token", "CACertFile": "cacert_file", "CACert": "ca_cert",
	"ClientCert": "client_cert", "ClientKey": "client_key",
}

// addConfigError adds an error of gitlab.New, naming the attribute it is about.
func addConfigError(diags *diag.Diagnostics, err error) {
	var ce *gitlab.ConfigError
	if errors.As(err, &ce) {
		if attr, ok := configAttributes[ce.Field]; ok {
			diags.AddAttributeError(path.Root(attr), "Invalid GitLab provider configuration",
				fmt.Sprintf("`%s`: %s.", attr, ce.Err))
			return
		}
	}
	diags.AddError("Invalid GitLab provider configuration", err.Error())
}
