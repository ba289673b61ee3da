package provider_test

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// seedAgents registers n agents out of band and returns them ordered by name,
// as GitLab lists them.
func seedAgents(t *testing.T, env *acctest.Env, projectID int64, n int) []mockgitlab.AgentInfo {
	t.Helper()
	agents := make([]mockgitlab.AgentInfo, 0, n)
	for i := range n {
		// Names chosen so that creation order differs from name order.
		a, err := env.Mock.CreateAgent(projectID, fmt.Sprintf("agent-%03d", (i*7)%n), acctest.MaintainerUserID)
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i].Name < agents[j].Name })
	return agents
}

func agentElementChecks(index int, a mockgitlab.AgentInfo) []statecheck.StateCheck {
	el := tfjsonpath.New("cluster_agents").AtSliceIndex(index)
	ds := "data.gitlabagent_cluster_agents.all"
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(ds, el.AtMapKey("agent_id"), knownvalue.Int64Exact(a.ID)),
		statecheck.ExpectKnownValue(ds, el.AtMapKey("name"), knownvalue.StringExact(a.Name)),
		statecheck.ExpectKnownValue(ds, el.AtMapKey("created_at"), knownvalue.StringExact(acctest.Timestamp(a.CreatedAt))),
		statecheck.ExpectKnownValue(ds, el.AtMapKey("created_by_user_id"), knownvalue.Int64Exact(a.CreatedByUserID)),
		statecheck.ExpectKnownValue(ds, el.AtMapKey("is_receptive"), knownvalue.Bool(a.IsReceptive)),
		statecheck.ExpectKnownValue(ds, el.AtMapKey("config_project"), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"id":                  knownvalue.Int64Exact(acctest.NestedProjectID),
			"name":                knownvalue.StringExact("clusters"),
			"path":                knownvalue.StringExact("clusters"),
			"path_with_namespace": knownvalue.StringExact(acctest.NestedProjectPath),
			"name_with_namespace": knownvalue.NotNull(),
			"description":         knownvalue.NotNull(),
			"created_at":          knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
		})),
	}
}

func TestAccClusterAgentsDataSource_allPages(t *testing.T) {
	env := acctest.New(t)
	agents := seedAgents(t, env, acctest.NestedProjectID, 205)
	checks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("cluster_agents"), knownvalue.ListSizeExact(len(agents))),
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.NestedProjectID)),
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("id"), knownvalue.StringExact(strconv.FormatInt(acctest.NestedProjectID, 10))),
	}
	// First and last of every page, every attribute.
	for _, i := range []int{0, 99, 100, 199, 200, 204} {
		checks = append(checks, agentElementChecks(i, agents[i])...)
	}
	byName := agents[150] // only on the second page
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.ProviderBlock(acctest.DeveloperToken) + fmt.Sprintf(`
data "gitlabagent_cluster_agents" "all" {
  project = %q
}

data "gitlabagent_cluster_agent" "by_name" {
  project = %q
  name    = %q
}

data "gitlabagent_cluster_agent" "by_id" {
  project  = "%d"
  agent_id = %d
}
`, acctest.NestedProjectPath, acctest.NestedProjectPath, byName.Name, acctest.NestedProjectID, agents[3].ID),
			ConfigStateChecks: append(checks,
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_name", tfjsonpath.New("agent_id"), knownvalue.Int64Exact(byName.ID)),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_name", tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("%d:%d", acctest.NestedProjectID, byName.ID))),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_name", tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.NestedProjectID)),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_name", tfjsonpath.New("created_at"), knownvalue.StringExact(acctest.Timestamp(byName.CreatedAt))),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_name", tfjsonpath.New("created_by_user_id"), knownvalue.Int64Exact(byName.CreatedByUserID)),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_name", tfjsonpath.New("is_receptive"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_id", tfjsonpath.New("name"), knownvalue.StringExact(agents[3].Name)),
				statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_id", tfjsonpath.New("created_at"), knownvalue.StringExact(acctest.Timestamp(agents[3].CreatedAt))),
			),
			// 205 agents at 100 a page: three list requests for each listing data source, each time Terraform reads them.
			Check: func(*terraform.State) error {
				lists := env.Mock.CountRequests("GET", "/api/v4/projects/*/cluster_agents")
				if lists == 0 || lists%3 != 0 {
					return fmt.Errorf("saw %d list requests; want a multiple of 3 (3 pages per read)", lists)
				}
				return nil
			},
		}},
	})
}

func TestAccClusterAgentDataSource_errors(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(`
data "gitlabagent_cluster_agent" "both" {
  project  = "root/test"
  agent_id = 1
  name     = "one"
}
`),
				ExpectError: acctest.ErrorRegexp("Invalid Attribute Combination", "agent_id", "name"),
			},
			{
				Config: env.Config(`
data "gitlabagent_cluster_agent" "neither" {
  project = "root/test"
}
`),
				ExpectError: acctest.ErrorRegexp("Missing Attribute Configuration", "agent_id", "name"),
			},
			{
				Config: env.Config(`
data "gitlabagent_cluster_agent" "missing" {
  project = "root/test"
  name    = "nowhere"
}
`),
				ExpectError: acctest.ErrorRegexp(`Project "root/test" has no agent named "nowhere"`),
			},
			{
				Config: env.ProviderBlock(acctest.ReporterToken) + `
data "gitlabagent_cluster_agents" "hidden" {
  project = "root/test"
}
`,
				ExpectError: acctest.ErrorRegexp("may not list the agents", "Developer role"),
			},
		},
	})
}
