package provider_test

import (
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// GitLab writes timestamps with exactly three fractional digits; a time
// whose milliseconds end in zero must keep that zero ("…41.950Z", not
// "…41.95Z"), in resources and data sources, after create and after a read.
func TestAccTimestamps_keptAsGitLabSentThem(t *testing.T) {
	env := acctest.New(t)
	clock := time.Date(2024, 5, 1, 10, 0, 41, 950_000_000, time.UTC)
	env.Mock.SetNow(func() time.Time { return clock })
	const sent = "2024-05-01T10:00:41.950Z" // what the mock GitLab sends
	config := env.Config(`
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "timestamps"
}

resource "gitlabagent_cluster_agent_token" "test" {
  project  = gitlabagent_cluster_agent.test.project
  agent_id = gitlabagent_cluster_agent.test.agent_id
  name     = "agentk"
}

data "gitlabagent_cluster_agent" "test" {
  project  = gitlabagent_cluster_agent.test.project
  agent_id = gitlabagent_cluster_agent.test.agent_id
}
`)
	checks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue("gitlabagent_cluster_agent.test", tfjsonpath.New("created_at"), knownvalue.StringExact(sent)),
		statecheck.ExpectKnownValue("gitlabagent_cluster_agent_token.test", tfjsonpath.New("created_at"), knownvalue.StringExact(sent)),
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.test", tfjsonpath.New("created_at"), knownvalue.StringExact(sent)),
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: config, ConfigStateChecks: checks},
			{
				// Refreshed: still as sent, and no change planned.
				Config:            config,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: checks,
			},
		},
	})
}
