package provider

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// The GitLab layer's facts reach a Terraform user as the provider's
// attribute names, commands and configuration blocks.
func TestGitLabFactsAreWordedForTerraform(t *testing.T) {
	t.Parallel()
	existing := &gitlab.URLConfiguration{ID: 9}
	for _, tc := range []struct {
		name string
		err  *gitlab.Error
		want []string
	}{
		{"settings", &gitlab.Error{Detail: "No answer.", Check: []gitlab.Setting{gitlab.SettingURL, gitlab.SettingTLS}},
			[]string{"No answer.", "`base_url` (or GITLAB_BASE_URL)", "`cacert_file`, `ca_cert` and `insecure`"}},
		{"token", &gitlab.Error{Check: []gitlab.Setting{gitlab.SettingToken}}, []string{"`token` (or GITLAB_TOKEN)"}},
		{"timeouts", &gitlab.Error{Check: []gitlab.Setting{gitlab.SettingRequestTimeout, gitlab.SettingOperationTimeout}},
			[]string{"`request_timeout`", "the resource's `timeouts`"}},
		{"rate limited", &gitlab.Error{Kind: gitlab.KindRateLimited, Check: []gitlab.Setting{gitlab.SettingRetries}},
			[]string{"-parallelism", "`retries = 0`"}},
		{"project gone", &gitlab.Error{Kind: gitlab.KindProjectNotFound, Check: []gitlab.Setting{gitlab.SettingProject}},
			[]string{"`terraform state rm`", "`project`"}},
		{"read-only token", &gitlab.Error{Kind: gitlab.KindReadOnlyToken}, []string{"`terraform plan`"}},
		{"token limit", &gitlab.Error{Kind: gitlab.KindTokenLimit}, []string{"gitlabagent_cluster_agent_token", "create_before_destroy"}},
		{"KAS", &gitlab.Error{Kind: gitlab.KindKASNotConfigured}, []string{"gitlabagent_kas data source"}},
		{"certificates", &gitlab.Error{Kind: gitlab.KindCertificatesRefused}, []string{"`client_cert`, `client_key` and `ca_cert`"}},
		{"community edition", &gitlab.Error{Kind: gitlab.KindReceptiveAgentsUnavailable, Gap: gitlab.GapEdition},
			[]string{"remove the URL-configuration resources"}},
		{"configuration exists", &gitlab.Error{Kind: gitlab.KindURLConfigurationExists, Project: "root/test", AgentID: 4, Existing: existing},
			[]string{"terraform import gitlabagent_cluster_agent_url_configuration.<name> root/test:4:9", `id = "root/test:4:9"`}},
		{"configuration exists, unread", &gitlab.Error{Kind: gitlab.KindURLConfigurationExists, Project: "root/test", AgentID: 4},
			[]string{"gitlabagent_cluster_agent_url_configurations data source", "root/test:4:<url_configuration_id>"}},
		{"lost create, another configuration", &gitlab.Error{Kind: gitlab.KindURLConfigurationUnknown, Project: "root/test", AgentID: 4, Existing: existing},
			[]string{"terraform import gitlabagent_cluster_agent_url_configuration.<name> root/test:4:9"}},
	} {
		got := errorDetail(tc.err)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
	}
}

func TestConfigErrorsNameTheAttribute(t *testing.T) {
	t.Parallel()
	var diags diag.Diagnostics
	addConfigError(&diags, &gitlab.ConfigError{Field: "CACertFile", Err: errors.New("the CA certificate file x holds no PEM certificate")})
	if len(diags) != 1 {
		t.Fatalf("%d diagnostics", len(diags))
	}
	d, ok := diags[0].(diag.DiagnosticWithPath)
	if !ok || !d.Path().Equal(path.Root("cacert_file")) || !strings.Contains(d.Detail(), "`cacert_file`: the CA certificate file x") {
		t.Errorf("diagnostic %v, want one on cacert_file naming it", diags[0])
	}
}
