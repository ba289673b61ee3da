package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

const agentsDataSource = `
data "gitlabagent_cluster_agents" "all" {
  project = "root/test"
}
`

func TestAccProvider_configurationErrors(t *testing.T) {
	env := acctest.New(t)
	t.Setenv("GITLAB_TOKEN", "")
	t.Setenv("GITLAB_BASE_URL", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url = %q
}
`, env.BaseURL) + agentsDataSource,
				ExpectError: acctest.ErrorRegexp("Missing GitLab token", "GITLAB_TOKEN"),
			},
			{
				Config: `
provider "gitlabagent" {
  base_url = "ftp://gitlab.example.com"
  token    = "x"
}
` + agentsDataSource,
				ExpectError: acctest.ErrorRegexp("is not a GitLab URL"),
			},
			{
				Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url = %q
  token    = "x"
  ca_cert  = "not a certificate"
}
`, env.BaseURL) + agentsDataSource,
				ExpectError: acctest.ErrorRegexp("Invalid PEM certificate", "no PEM certificate found"),
			},
			{
				Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url    = %q
  token       = "x"
  client_cert = "/tmp/cert.pem"
}
`, env.BaseURL) + agentsDataSource,
				ExpectError: acctest.ErrorRegexp("Invalid Attribute Combination", "client_key"),
			},
			{
				Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url         = %q
  token            = "glpat-wrong"
  early_auth_check = true
}
`, env.BaseURL) + agentsDataSource,
				ExpectError: acctest.ErrorRegexp("Failed to check the GitLab token", "rejected the token (401 Unauthorized)"),
			},
		},
	})
}

func TestAccProvider_environmentAndLazyAuth(t *testing.T) {
	env := acctest.New(t)
	t.Setenv("GITLAB_TOKEN", acctest.DeveloperToken)
	// The base URL without /api/v4 is accepted too.
	t.Setenv("GITLAB_BASE_URL", env.BaseURL[:len(env.BaseURL)-len("/api/v4")])
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				// Without early_auth_check a configuration that needs no request makes none.
				Config: `
provider "gitlabagent" {}

output "nothing" {
  value = "no request"
}
`,
				Check: func(*terraform.State) error {
					if reqs := env.Mock.Requests(); len(reqs) != 0 {
						return fmt.Errorf("the provider made requests although nothing needed one: %v", reqs)
					}
					return nil
				},
			},
			{
				Config: `
provider "gitlabagent" {
  early_auth_check = true
}
` + agentsDataSource,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("cluster_agents"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
				},
				Check: func(*terraform.State) error {
					if n := env.Mock.CountRequests("GET", "/api/v4/user"); n == 0 {
						return fmt.Errorf("early_auth_check made no GET /user request")
					}
					return nil
				},
			},
		},
	})
}
