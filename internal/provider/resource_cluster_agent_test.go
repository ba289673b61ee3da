package provider_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const agentResource = "gitlabagent_cluster_agent.test"

func agentConfig(project, name string) string {
	return fmt.Sprintf(`
resource "gitlabagent_cluster_agent" "test" {
  project = %q
  name    = %q
}
`, project, name)
}

// checkAgentInMock compares the agent in state with the mock's record of it.
func checkAgentInMock(env *acctest.Env, wantName string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := acctest.Int64Attribute(s, agentResource, "agent_id")
		if err != nil {
			return err
		}
		a, ok := env.Mock.Agent(id)
		if !ok {
			return fmt.Errorf("agent %d is not in the mock GitLab", id)
		}
		if a.Name != wantName {
			return fmt.Errorf("mock agent %d is named %q, want %q", id, a.Name, wantName)
		}
		for attr, want := range map[string]string{
			"id":                 fmt.Sprintf("%d:%d", a.ProjectID, a.ID),
			"project_id":         strconv.FormatInt(a.ProjectID, 10),
			"name":               a.Name,
			"created_at":         acctest.Timestamp(a.CreatedAt),
			"created_by_user_id": strconv.FormatInt(a.CreatedByUserID, 10),
		} {
			got, err := acctest.Attribute(s, agentResource, attr)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s.%s = %q, want %q", agentResource, attr, got, want)
			}
		}
		return nil
	}
}

func TestAccClusterAgent_createImportAndEmptyPlan(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(agentConfig(acctest.ProjectPath, "production")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("project"), knownvalue.StringExact(acctest.ProjectPath)),
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("name"), knownvalue.StringExact("production")),
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("created_by_user_id"), knownvalue.Int64Exact(acctest.MaintainerUserID)),
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^20:\d+$`))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAgentInMock(env, "production"),
					// Create is one POST and no read-back.
					env.ExpectRequests("POST", "/api/v4/projects/*/cluster_agents", 1),
					env.ExpectRequests("GET", "/api/v4/projects/root%2Ftest/cluster_agents/*", 0),
				),
			},
			{
				ResourceName:      agentResource,
				ImportState:       true,
				ImportStateIdFunc: acctest.ImportIDFunc(agentResource, acctest.ProjectPath, "agent_id"),
				ImportStateVerify: true,
			},
			{
				ResourceName:      agentResource,
				ImportState:       true,
				ImportStateIdFunc: acctest.ImportIDFunc(agentResource, strconv.FormatInt(acctest.ProjectID, 10), "agent_id"),
				ImportStateVerify: true,
				// The numeric form is kept as written; every other attribute must match.
				ImportStateVerifyIgnore: []string{"project"},
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if got := states[0].Attributes["project"]; got != "20" {
						return fmt.Errorf("imported project = %q, want \"20\"", got)
					}
					return nil
				},
			},
			{
				Config: env.Config(agentConfig(acctest.ProjectPath, "production")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: env.ExpectRequests("POST", "/api/v4/projects/*/cluster_agents", 1),
			},
		},
	})
	if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
		t.Errorf("destroy left %d agents in the mock GitLab", n)
	}
}

func TestAccClusterAgent_renameReplaces(t *testing.T) {
	env := acctest.New(t)
	var firstID int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(agentConfig(acctest.ProjectPath, "blue")),
				Check: func(s *terraform.State) (err error) {
					firstID, err = acctest.Int64Attribute(s, agentResource, "agent_id")
					return err
				},
			},
			{
				Config: env.Config(agentConfig(acctest.ProjectPath, "green")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentResource, plancheck.ResourceActionReplace)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAgentInMock(env, "green"),
					func(*terraform.State) error {
						if _, ok := env.Mock.Agent(firstID); ok {
							return fmt.Errorf("agent %d (blue) still exists after the replacement", firstID)
						}
						return nil
					},
					env.ExpectRequests("DELETE", "/api/v4/projects/*/cluster_agents/*", 1),
				),
			},
		},
	})
}

func TestAccClusterAgent_projectSpellingDoesNotReplace(t *testing.T) {
	env := acctest.New(t)
	sameAgent := statecheck.CompareValue(compare.ValuesSame())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:            env.Config(agentConfig(acctest.ProjectPath, "stable")),
				ConfigStateChecks: []statecheck.StateCheck{sameAgent.AddStateValue(agentResource, tfjsonpath.New("agent_id"))},
			},
			{
				// Path → numeric ID: same project, an in-place update of state only.
				Config: env.Config(agentConfig("20", "stable")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentResource, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameAgent.AddStateValue(agentResource, tfjsonpath.New("agent_id")),
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("project"), knownvalue.StringExact("20")),
				},
			},
			{
				// Numeric ID → path differing in case: GitLab resolves it to the same project.
				Config: env.Config(agentConfig("Root/Test", "stable")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentResource, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameAgent.AddStateValue(agentResource, tfjsonpath.New("agent_id"))},
			},
			{
				// The project is renamed in GitLab; the old path in configuration keeps working.
				PreConfig: func() {
					if err := env.Mock.RenameProject(acctest.ProjectID, "platform/agents"); err != nil {
						t.Fatal(err)
					}
				},
				Config: env.Config(agentConfig("Root/Test", "stable")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Following the rename in configuration does not replace either.
				Config: env.Config(agentConfig("platform/agents", "stable")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentResource, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameAgent.AddStateValue(agentResource, tfjsonpath.New("agent_id"))},
				Check: resource.ComposeAggregateTestCheckFunc(
					env.ExpectRequests("POST", "/api/v4/projects/*/cluster_agents", 1),
					env.ExpectRequests("DELETE", "/api/v4/projects/*/cluster_agents/*", 0),
				),
			},
			{
				// Another project does replace.
				Config: env.Config(agentConfig(acctest.NestedProjectPath, "stable")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentResource, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(agentResource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.NestedProjectID)),
				},
			},
		},
	})
}

func TestAccClusterAgent_deletedOutOfBandIsRecreated(t *testing.T) {
	env := acctest.New(t)
	var firstID int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(agentConfig(acctest.ProjectPath, "ephemeral")),
				Check: func(s *terraform.State) (err error) {
					firstID, err = acctest.Int64Attribute(s, agentResource, "agent_id")
					return err
				},
			},
			{
				PreConfig: func() {
					if err := env.Mock.DeleteAgent(firstID); err != nil {
						t.Fatal(err)
					}
				},
				Config: env.Config(agentConfig(acctest.ProjectPath, "ephemeral")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentResource, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAgentInMock(env, "ephemeral"),
					func(s *terraform.State) error {
						id, err := acctest.Int64Attribute(s, agentResource, "agent_id")
						if err == nil && id == firstID {
							err = fmt.Errorf("agent_id is still %d after recreation", id)
						}
						return err
					},
				),
			},
		},
	})
}

func TestAccClusterAgent_permissionAndAuthErrors(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:      env.ProviderBlock(acctest.DeveloperToken) + agentConfig(acctest.ProjectPath, "dev-attempt"),
				ExpectError: acctest.ErrorRegexp(`not allowed to register agent "dev-attempt"`, "403 Forbidden", "Maintainer role"),
			},
			{
				Config:      env.ProviderBlock("glpat-not-a-real-token") + agentConfig(acctest.ProjectPath, "bad-token"),
				ExpectError: acctest.ErrorRegexp("rejected the token (401 Unauthorized)", "Check `token`"),
			},
			{
				Config:      env.ProviderBlock(acctest.OutsiderToken) + agentConfig(acctest.ProjectPath, "outsider"),
				ExpectError: acctest.ErrorRegexp(`Project "root/test" was not found`, "Check `project`"),
			},
		},
	})
	if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
		t.Errorf("refused requests still created %d agents", n)
	}
}

func TestAccClusterAgent_invalidNamesFailAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	cases := map[string]string{
		"Production":            `can contain only lowercase letters, digits, and '-'`,
		"-leading":              `cannot start or end with '-'`,
		"trailing-":             `cannot start or end with '-'`,
		"under_score":           `can contain only lowercase letters`,
		"":                      `Name can't be blank`,
		strings.Repeat("a", 64): `Name is too long (maximum is 63 characters)`,
	}
	var steps []resource.TestStep
	for name, want := range cases {
		steps = append(steps, resource.TestStep{
			Config:      env.Config(agentConfig(acctest.ProjectPath, name)),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("Invalid agent name", want),
		})
	}
	steps = append(steps, resource.TestStep{
		Config:      env.Config(agentConfig("just-a-name", "valid")),
		PlanOnly:    true,
		ExpectError: acctest.ErrorRegexp("Invalid project", "neither a numeric ID nor a full path"),
	})
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
	if reqs := env.Mock.Requests(); len(reqs) != 0 {
		t.Errorf("invalid configurations reached GitLab: %v", reqs)
	}
	// The longest valid name passes.
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(agentConfig(acctest.ProjectPath, strings.Repeat("a", 63))),
			Check:  checkAgentInMock(env, strings.Repeat("a", 63)),
		}},
	})
}

func TestAccClusterAgent_importErrors(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:        env.Config(agentConfig(acctest.ProjectPath, "imported")),
				ResourceName:  agentResource,
				ImportState:   true,
				ImportStateId: "root/test",
				ExpectError:   acctest.ErrorRegexp("not of the form <project>:<agent_id>"),
			},
			{
				Config:        env.Config(agentConfig(acctest.ProjectPath, "imported")),
				ResourceName:  agentResource,
				ImportState:   true,
				ImportStateId: "root/test:999",
				ExpectError:   acctest.ErrorRegexp("Cannot import non-existent remote object"),
			},
		},
	})
}

func TestAccClusterAgent_faults(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				// GitLab registers the agent but the answer is lost (502): the POST is not
				// repeated, the agent is found by name and adopted, nothing is left behind.
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{
						Method: "POST", Pattern: "/api/v4/projects/*/cluster_agents", Status: 502, AfterCommit: true,
					})
				},
				Config: env.Config(agentConfig(acctest.ProjectPath, "lost-answer")),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAgentInMock(env, "lost-answer"),
					env.ExpectRequests("POST", "/api/v4/projects/*/cluster_agents", 1),
					func(*terraform.State) error {
						if n := len(env.Mock.Agents(acctest.ProjectID)); n != 1 {
							return fmt.Errorf("the mock has %d agents, want exactly the one in state", n)
						}
						return nil
					},
				),
			},
			{
				// Rate limited reads wait for Retry-After and go through.
				PreConfig: func() {
					env.Mock.ResetRequests()
					env.Mock.InjectFault(mockgitlab.Fault{
						Method: "GET", Pattern: "/api/v4/projects/*/cluster_agents/*", Status: 429,
						Headers: map[string]string{"Retry-After": "1"},
					})
				},
				Config: env.Config(agentConfig(acctest.ProjectPath, "lost-answer")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					var throttled int
					for _, r := range env.Mock.Requests() {
						if r.Status == 429 {
							throttled++
						}
					}
					if throttled != 1 {
						return fmt.Errorf("saw %d throttled requests, want 1 (then retried)", throttled)
					}
					return nil
				},
			},
			{
				// A server error on create with nothing created: an error saying so, one POST.
				PreConfig: func() {
					env.Mock.ResetRequests()
					env.Mock.InjectFault(mockgitlab.Fault{
						Method: "POST", Pattern: "/api/v4/projects/*/cluster_agents", Status: 503,
					})
				},
				Config: env.Config(agentConfig(acctest.ProjectPath, "lost-answer") + `
resource "gitlabagent_cluster_agent" "second" {
  project = "root/test"
  name    = "never-made"
}
`),
				ExpectError: acctest.ErrorRegexp("GitLab answered 503", "a create is never repeated blindly"),
			},
		},
	})
	// The failed create was tried once; the list that reconciled it found nothing.
	if n := env.Mock.CountRequests("POST", "/api/v4/projects/*/cluster_agents"); n != 1 {
		t.Errorf("the failed create was sent %d times, want 1", n)
	}
	for _, a := range env.Mock.Agents(acctest.ProjectID) {
		t.Errorf("agent %q was left behind", a.Name)
	}
}

func TestAccProvider_configurationKnownOnlyAtApply(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			// The token comes from another resource: unknown while planning. Planning a new
			// agent needs no request, so the plan succeeds; the apply configures the provider.
			Config: fmt.Sprintf(`
resource "terraform_data" "token" {
  input = %q
}

provider "gitlabagent" {
  base_url = %q
  token    = terraform_data.token.output
}
`, acctest.MaintainerToken, env.BaseURL) + agentConfig(acctest.ProjectPath, "late-token"),
			Check: checkAgentInMock(env, "late-token"),
		}},
	})
}
