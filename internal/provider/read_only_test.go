package provider_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// TestAccAPIToken_readAPIPlans plans a configuration whose agent and token
// exist with a read_api token, as a CI plan job does with the smallest token:
// the refresh reads everything and finds nothing to change.
func TestAccAPIToken_readAPIPlans(t *testing.T) {
	env := acctest.New(t)
	config := `
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "read-only-plan"
}

resource "gitlabagent_cluster_agent_token" "test" {
  project  = gitlabagent_cluster_agent.test.project
  agent_id = gitlabagent_cluster_agent.test.agent_id
  name     = "agentk"
}

data "gitlabagent_cluster_agents" "all" {
  project    = "root/test"
  depends_on = [gitlabagent_cluster_agent.test]
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: env.ProviderBlock(acctest.MaintainerToken) + config},
			{
				Config:   env.ProviderBlock(mockgitlab.DefaultReadAPIToken) + config,
				PlanOnly: true,
			},
			// Destroy needs the api scope: the last step's configuration is the one destroyed.
			{Config: env.ProviderBlock(acctest.MaintainerToken) + config, PlanOnly: true},
		},
	})
}
