package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// expectExactRequests fails unless the mock logged exactly these requests
// ("METHOD escaped-path"), in any order, since the last reset, and resets
// the log for the next step.
func expectExactRequests(env *acctest.Env, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		defer env.Mock.ResetRequests()
		var got []string
		for _, r := range env.Mock.Requests() {
			got = append(got, r.Method+" "+r.Path)
		}
		remaining := map[string]int{}
		for _, w := range want {
			remaining[w]++
		}
		for _, g := range got {
			remaining[g]--
		}
		for k, n := range remaining {
			if n != 0 {
				return fmt.Errorf("GitLab saw %d requests:\n  %s\nwant %d:\n  %s\n(%q off by %d)",
					len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "), k, -n)
			}
		}
		return nil
	}
}

// TestAccRequestsAtTheFloor: creating an agent and its token with `project`
// written as a path takes one POST each, no project lookup, however many
// such pairs are applied at once; refreshing them takes one GET each.
func TestAccRequestsAtTheFloor(t *testing.T) {
	env := acctest.New(t)
	const pairs = 3
	config := env.Config(fmt.Sprintf(`
resource "gitlabagent_cluster_agent" "a" {
  count   = %d
  project = %q
  name    = "floor-${count.index}"
}

resource "gitlabagent_cluster_agent_token" "t" {
  count    = %d
  project  = gitlabagent_cluster_agent.a[count.index].project
  agent_id = gitlabagent_cluster_agent.a[count.index].agent_id
  name     = "agentk"
}
`, pairs, acctest.ProjectPath, pairs))
	agents := "/api/v4/projects/root%2Ftest/cluster_agents"
	var apply []string
	for i := range pairs {
		apply = append(apply, "POST "+agents, fmt.Sprintf("POST %s/%d/tokens", agents, i+1))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: config, Check: expectExactRequests(env, apply...)},
			{Config: config, Check: expectRefreshesAtTheFloor(env, pairs)},
		},
	})
}

// expectRefreshesAtTheFloor fails unless every request since the last reset
// read one agent or one token by its ID, with the numeric project ID, as many
// of each as there are agent and token pairs for every refresh.
func expectRefreshesAtTheFloor(env *acctest.Env, pairs int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		defer env.Mock.ResetRequests()
		agentGets := env.Mock.CountRequests("GET", fmt.Sprintf("/api/v4/projects/%d/cluster_agents/*", acctest.ProjectID))
		tokenGets := env.Mock.CountRequests("GET", fmt.Sprintf("/api/v4/projects/%d/cluster_agents/*/tokens/*", acctest.ProjectID))
		all := env.Mock.Requests()
		if agentGets+tokenGets != len(all) || agentGets != tokenGets || agentGets == 0 || agentGets%pairs != 0 {
			return fmt.Errorf("refreshes sent %d agent and %d token reads out of %d requests, want only reads, "+
				"one of each per pair and refresh; log: %v", agentGets, tokenGets, len(all), all)
		}
		return nil
	}
}
