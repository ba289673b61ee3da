package provider_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// Answers that are not GitLab's, as a proxy's sign-in page, a captive portal
// or a misconfigured load balancer give them, are never a success: not for
// a destroy, a refresh, a create or early_auth_check. State and GitLab agree
// after each.

const (
	agentAddress     = "gitlabagent_cluster_agent.test"
	urlConfigAddress = "gitlabagent_cluster_agent_url_configuration.test"
)

// allThreeHCL is an agent with a token and a URL configuration; extra goes
// into each resource (e.g. a timeouts block).
func allThreeHCL(extra string) string {
	return fmt.Sprintf(`
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "answers"
  %[1]s
}

resource "gitlabagent_cluster_agent_token" "test" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.test.agent_id
  name     = "cluster"
  %[1]s
}

resource "gitlabagent_cluster_agent_url_configuration" "test" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.test.agent_id
  url      = "grpcs://agent.example.com:4242"
  %[1]s
}
`, extra)
}

// allThreeAgree checks that the three objects exist in GitLab, active, with
// the IDs state holds, and that GitLab holds nothing else.
func allThreeAgree(env *acctest.Env) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		agents := env.Mock.Agents(acctest.ProjectID)
		if len(agents) != 1 {
			return fmt.Errorf("GitLab has %d agents, want 1", len(agents))
		}
		agentID, err := acctest.Int64Attribute(s, agentAddress, "agent_id")
		if err != nil || agentID != agents[0].ID {
			return fmt.Errorf("state's agent_id %d (%w), GitLab's agent %d", agentID, err, agents[0].ID)
		}
		tokens := env.Mock.ActiveTokens(agentID)
		tokenID, err := acctest.Int64Attribute(s, tokenResource, "token_id")
		if err != nil || len(tokens) != 1 || tokens[0].ID != tokenID {
			return fmt.Errorf("state's token_id %d (%w), GitLab's active tokens %+v", tokenID, err, tokens)
		}
		u, ok := env.Mock.URLConfiguration(agentID)
		configID, err := acctest.Int64Attribute(s, urlConfigAddress, "url_configuration_id")
		if err != nil || !ok || u.ID != configID {
			return fmt.Errorf("state's url_configuration_id %d (%w), GitLab's %+v", configID, err, u)
		}
		return nil
	}
}

// nothingLeft is a CheckDestroy: GitLab holds no agent (and so no token or
// URL configuration) after the test's destroy.
func nothingLeft(env *acctest.Env) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
			return fmt.Errorf("%d agents left in GitLab", n)
		}
		return nil
	}
}

// countMethod counts the API requests of a method GitLab received.
func countMethod(env *acctest.Env, method string) int {
	n := 0
	for _, r := range env.Mock.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// notGitLabError is the error of an answer that is not GitLab's: the
// request, what came back, and where to look.
func notGitLabError(method string, shows ...string) []string {
	texts := []string{"The answer to " + method + " http", "is not one GitLab's API gives", "What came back: status"}
	texts = append(texts, shows...)
	return append(texts, "Terraform's state was left as it was", "base_url", "HTTPS_PROXY")
}

// A destroy answered by something that is not GitLab keeps everything in
// state: each DELETE answered with HTML, a redirect to a sign-in page, {} or
// [] fails, and the next plan finds all three objects where they were.
func TestAccAnswers_destroyKeepsState(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerRedirect, mockgitlab.AnswerEmptyObject, mockgitlab.AnswerEmptyList} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			cfg := env.Config(allThreeHCL(""))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				CheckDestroy:             nothingLeft(env),
				Steps: []resource.TestStep{
					{Config: cfg, Check: allThreeAgree(env)},
					{
						PreConfig: func() {
							env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodDelete, Answer: answer, Count: 10})
						},
						Config:      cfg,
						Destroy:     true,
						ExpectError: acctest.ErrorRegexp(notGitLabError("DELETE")...),
					},
					{
						PreConfig: func() {
							env.Mock.ClearFaults()
							if n := countMethod(env, http.MethodDelete); n == 0 {
								t.Error("no DELETE was sent")
							}
						},
						Config: cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						Check: allThreeAgree(env),
					},
				},
			})
		})
	}
}

// `terraform destroy` answered {} everywhere: the refresh fails before any
// DELETE, and nothing leaves state.
func TestAccAnswers_destroyAnsweredEmptyObjects(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	cfg := env.Config(allThreeHCL(""))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy:             nothingLeft(env),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Answer: mockgitlab.AnswerEmptyObject, Count: 100})
				},
				Config:      cfg,
				Destroy:     true,
				ExpectError: acctest.ErrorRegexp(notGitLabError("GET", "body starting with {}")...),
			},
			{
				PreConfig: func() { env.Mock.ClearFaults() },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: allThreeAgree(env),
			},
		},
	})
}

// `terraform apply -refresh-only` answered {} never rewrites the IDs in
// state (to 0); answered with HTML, the error shows what came back.
func TestAccAnswers_refreshKeepsIDs(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	cfg := env.Config(allThreeHCL(""))
	var agentID int64
	keepsAgentID := func(s *terraform.State) error {
		id, err := acctest.Int64Attribute(s, agentAddress, "agent_id")
		if err != nil || id != agentID || id == 0 {
			return fmt.Errorf("agent_id in state is %d (%w), want %d", id, err, agentID)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy:             nothingLeft(env),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) (err error) {
					agentID, err = acctest.Int64Attribute(s, agentAddress, "agent_id")
					return err
				},
			},
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Answer: mockgitlab.AnswerEmptyObject, Count: 100})
				},
				RefreshState: true,
				ExpectError:  acctest.ErrorRegexp(notGitLabError("GET", "body starting with {}")...),
			},
			{
				PreConfig: func() {
					env.Mock.ClearFaults()
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/projects/*/cluster_agents/*", Answer: mockgitlab.AnswerHTML, Count: 100})
				},
				RefreshState: true,
				ExpectError: acctest.ErrorRegexp(notGitLabError("GET", `Content-Type "text/html; charset=utf-8"`,
					`body starting with "<!DOCTYPE html>`, "Sign in · GitLab")...),
			},
			{
				PreConfig: func() {
					env.Mock.ClearFaults()
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Answer: mockgitlab.AnswerWrongID, Count: 100})
				},
				RefreshState: true,
				ExpectError: acctest.ErrorRegexp("The answer to GET http", "is not one GitLab's API gives: it describes",
					"not agent", "What came back: status 200", "Terraform's state was left as it was", "base_url"),
			},
			{
				PreConfig: func() { env.Mock.ClearFaults() },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(keepsAgentID, allThreeAgree(env)),
			},
		},
	})
}

// A create answered {} without GitLab doing anything fails with what came
// back (not "inconsistent result after apply"), after checking that nothing
// was created; answered {} after GitLab created the objects, the agent and
// the URL configuration are found and adopted, and the token, whose secret
// is lost, is listed and left for the user to revoke or adopt.
func TestAccAnswers_createAnsweredEmptyObject(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	cfg := env.Config(allThreeHCL(""))
	agentOnly := env.Config(agentConfig(acctest.ProjectPath, "answers"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy:             nothingLeft(env),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Answer: mockgitlab.AnswerEmptyObject})
				},
				Config: agentOnly,
				ExpectError: acctest.ErrorRegexp("The answer to POST http", "is not one GitLab's API gives",
					"body starting with {}", `GitLab registered no agent named "answers"`, "base_url"),
			},
			{
				PreConfig: func() {
					if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
						t.Errorf("%d agents after a create GitLab never saw", n)
					}
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Answer: mockgitlab.AnswerEmptyObject, AfterCommit: true, Count: 3})
				},
				Config: cfg,
				ExpectError: acctest.ErrorRegexp(`Whether GitLab created token "cluster" is unknown`, `token_id 1 ("cluster")`,
					"Nothing was revoked", "terraform import <address of this gitlabagent_cluster_agent_token> 'root/test:",
					"terraform apply -replace=<address of this gitlabagent_cluster_agent_token>"),
			},
			{
				PreConfig: func() {
					agents := env.Mock.Agents(acctest.ProjectID)
					if len(agents) != 1 {
						t.Fatalf("%d agents", len(agents))
					}
					if n := len(env.Mock.ActiveTokens(agents[0].ID)); n != 1 {
						t.Errorf("%d active tokens after the lost create, want 1: nothing revoked", n)
					}
					if n := countMethod(env, http.MethodDelete); n != 0 {
						t.Errorf("%d DELETEs", n)
					}
				},
				// The user adopts the token, then rotates it.
				Config:             cfg,
				ResourceName:       tokenResource,
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					agentID, err := acctest.Int64Attribute(s, agentAddress, "agent_id")
					return fmt.Sprintf("root/test:%d:1", agentID), err
				},
			},
			{
				// Rotated: the adopted token, whose secret nobody has, is revoked.
				Config: cfg,
				Taint:  []string{tokenResource},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						if id, _ := acctest.Int64Attribute(s, tokenResource, "token_id"); id == 1 {
							return fmt.Errorf("token 1 was not rotated")
						}
						if info, _ := env.Mock.Token(1); info.Status != "revoked" {
							return fmt.Errorf("the adopted token 1 is %s after its rotation", info.Status)
						}
						return nil
					},
					resource.TestCheckResourceAttrSet(tokenResource, "token"),
					allThreeAgree(env),
				),
			},
		},
	})
}

// early_auth_check fails on every answer that is not GitLab's.
func TestAccAnswers_earlyAuthCheck(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	cfg := fmt.Sprintf(`
provider "gitlabagent" {
  base_url         = %q
  token            = %q
  retries          = 1
  early_auth_check = true
}

data "gitlabagent_cluster_agents" "all" {
  project = "root/test"
}
`, env.BaseURL, acctest.MaintainerToken)
	var steps []resource.TestStep
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerRedirect, mockgitlab.AnswerEmptyObject, mockgitlab.AnswerEmptyList} {
		steps = append(steps, resource.TestStep{
			PreConfig: func() {
				env.Mock.ClearFaults()
				env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/user", Answer: answer, Count: 100})
			},
			Config:      cfg,
			ExpectError: acctest.ErrorRegexp(append([]string{"Failed to check the GitLab token"}, notGitLabError("GET")...)...),
		})
	}
	steps = append(steps, resource.TestStep{
		PreConfig: func() { env.Mock.ClearFaults() },
		Config:    cfg,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("project_id"),
				knownvalue.Int64Exact(acctest.ProjectID)),
		},
	})
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
	if n := env.Mock.CountRequests(http.MethodGet, "/api/v4/projects/*/cluster_agents"); n == 0 {
		t.Error("the data source never read the agents once the check passed")
	}
}

// A create whose connection is refused never reached GitLab: the error says
// nothing was registered, not that the outcome is unknown.
func TestAccAnswers_createNeverSent(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	cfg := `
provider "gitlabagent" {
  base_url = "http://127.0.0.1:1/api/v4"
  token    = "glpat-unreachable-0000000000"
  retries  = 1
}
` + agentConfig(acctest.ProjectPath, "unreachable")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: acctest.ErrorRegexp("The request never reached GitLab", `Agent "unreachable" was not registered`),
		}},
	})
}

// An agent and a URL configuration that GitLab created though its answer was
// lost (here: {} after the change) are found and adopted, each with the same
// warning, and state holds GitLab's IDs.
func TestAnswers_adoptedAfterALostAnswerWarns(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Answer: mockgitlab.AnswerEmptyObject, AfterCommit: true, Count: 2})

	agent, diags := p.Create("gitlabagent_cluster_agent", map[string]tftypes.Value{
		"project": str(acctest.ProjectPath), "name": str("adopted"),
	})
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	agents := env.Mock.Agents(acctest.ProjectID)
	if len(agents) != 1 || !acctest.Attr(agent, "agent_id").Equal(number(agents[0].ID)) {
		t.Fatalf("state %v, GitLab's agents %+v", agent, agents)
	}
	if w := acctest.Warnings(diags); !strings.Contains(w, "GitLab's answer was lost; the agent was found") {
		t.Errorf("no warning about the adopted agent: %q", w)
	}

	config, diags := p.Create("gitlabagent_cluster_agent_url_configuration", map[string]tftypes.Value{
		"project": str(acctest.ProjectPath), "agent_id": number(agents[0].ID), "url": str("grpcs://agent.example.com:4242"),
	})
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	u, ok := env.Mock.URLConfiguration(agents[0].ID)
	if !ok || !acctest.Attr(config, "url_configuration_id").Equal(number(u.ID)) {
		t.Fatalf("state %v, GitLab's configuration %+v", config, u)
	}
	if w := acctest.Warnings(diags); !strings.Contains(w, "GitLab's answer was lost; the URL configuration was found") ||
		!strings.Contains(w, fmt.Sprintf("URL configuration %d", u.ID)) {
		t.Errorf("no warning about the adopted URL configuration: %q", w)
	}
	if n := countMethod(env, http.MethodPost); n != 2 {
		t.Errorf("%d POSTs, want one per object, never repeated", n)
	}
}
