package provider_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// Answers that are not GitLab's on the repository files, GET /metadata, GraphQL and the personal access
// tokens are never a success either: the agent's configuration file stays in state and in GitLab, the
// data sources fail instead of saying "disabled" or "not connected", and no token is handed out.

const filesPattern = "/api/v4/projects/*/repository/files/*"

// answerShows is how an error shows the body of each answer.
var answerShows = map[string]string{
	mockgitlab.AnswerHTML:        `body starting with "<!DOCTYPE html>`,
	mockgitlab.AnswerEmptyObject: "body starting with {}",
}

// notGitLabErrorAt is notGitLabError for a request to path (under the host).
func notGitLabErrorAt(method, path string, shows ...string) []string {
	texts := notGitLabError(method, shows...)
	texts[1] = path + " " + texts[1]
	return texts
}

// configKept checks that the configuration file is in GitLab, as last committed, and in state.
func configKept(env *acctest.Env) resource.TestCheckFunc {
	return resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttr(agentConfigResource, "file_path", productionConfigPath),
		checkFile(env, wantDocument("info")),
	)
}

// A destroy whose DELETE is answered by something that is not GitLab keeps the file in state and in
// GitLab; the next plan finds it as it was.
func TestAccAnswers_agentConfigDestroyKeepsState(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerRedirect, mockgitlab.AnswerEmptyObject} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			cfg := env.Config(agentConfigHCL(acctest.ProjectPath, "info", ""))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				CheckDestroy: func(*terraform.State) error {
					if _, ok := env.Mock.RepositoryFile(acctest.ProjectID, productionConfigPath); ok {
						return fmt.Errorf("%s is left in GitLab", productionConfigPath)
					}
					return nil
				},
				Steps: []resource.TestStep{
					{Config: cfg, Check: configKept(env)},
					{
						PreConfig: func() {
							env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodDelete, Pattern: filesPattern, Answer: answer, Count: 10})
						},
						Config:      cfg,
						Destroy:     true,
						ExpectError: acctest.ErrorRegexp(notGitLabError("DELETE")...),
					},
					{
						PreConfig: func() {
							env.Mock.ClearFaults()
							if n := env.Mock.CountRequests(http.MethodDelete, filesPattern); n == 0 {
								t.Error("no DELETE was sent")
							}
						},
						Config:           cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
						Check:            configKept(env),
					},
				},
			})
		})
	}
}

// A refresh whose read of the file is answered by something that is not GitLab fails and keeps state:
// {} is not an empty file, HTML not a deleted one.
func TestAccAnswers_agentConfigRefreshKeepsState(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerEmptyObject, mockgitlab.AnswerWrongID} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			cfg := env.Config(agentConfigHCL(acctest.ProjectPath, "info", ""))
			shows := "body starting with"
			if answer == mockgitlab.AnswerWrongID {
				shows = `body starting with {"blob_id"` // after the file it describes
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				Steps: []resource.TestStep{
					{Config: cfg, Check: configKept(env)},
					{
						PreConfig: func() {
							env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: filesPattern, Answer: answer, Count: 10})
						},
						Config:      cfg,
						ExpectError: acctest.ErrorRegexp(notGitLabError("GET", shows)...),
					},
					{
						PreConfig:        env.Mock.ClearFaults,
						Config:           cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
						Check:            configKept(env),
					},
				},
			})
		})
	}
}

// The gitlabagent_kas data source fails on an answer that is not GitLab's instead of reporting KAS
// disabled.
func TestAccAnswers_kasDataSource(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerEmptyObject} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/metadata", Answer: answer, Count: 10})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				Steps: []resource.TestStep{{
					Config:      env.Config(`data "gitlabagent_kas" "this" {}`),
					ExpectError: acctest.ErrorRegexp(notGitLabErrorAt("GET", "/api/v4/metadata", answerShows[answer])...),
				}},
			})
		})
	}
}

// The connections data source fails on a GraphQL answer that is not GitLab's: it never says "not
// connected" without GitLab's data.
func TestAccAnswers_connectionsDataSource(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerEmptyObject} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			env := acctest.New(t)
			agentID := newTestAgent(t, env)
			env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Answer: answer, Count: 10})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				Steps: []resource.TestStep{{
					Config:      env.Config(connectionsConfig(acctest.ProjectPath, agentID, "")),
					ExpectError: acctest.ErrorRegexp(notGitLabErrorAt("POST", "/api/graphql", answerShows[answer])...),
				}},
			})
		})
	}
}

// A token create answered {} hands out no token; a revoke answered with HTML is a warning that the token
// was not revoked, and it still works.
func TestKubernetesAccess_answersThatAreNotGitLabs(t *testing.T) {
	t.Parallel()
	t.Run("create answered {}", func(t *testing.T) {
		t.Parallel()
		env := acctest.NewMock(t)
		agentID := reachableAgent(t, env)
		env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: patCreatePath, Answer: mockgitlab.AnswerEmptyObject, AfterCommit: true})
		p := env.Protocol(t, acctest.MaintainerToken)
		result, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
		errs := acctest.Errors(diags)
		for _, w := range append(notGitLabError("POST", "body starting with {}"), "may have created the token", "stops working at 00:00 UTC") {
			if !strings.Contains(errs, w) {
				t.Errorf("errors lack %q:\n%s", w, errs)
			}
		}
		if !acctest.Attr(result, "token").IsNull() || len(private) != 0 {
			t.Errorf("a failed open returned a token or private data (%d bytes)", len(private))
		}
	})
	t.Run("revoke answered with HTML", func(t *testing.T) {
		t.Parallel()
		env := acctest.NewMock(t)
		agentID := reachableAgent(t, env)
		p := env.Protocol(t, acctest.MaintainerToken)
		result, private, diags := p.OpenEphemeral(acctest.KubernetesAccessType, accessConfig(agentID))
		if len(diags) > 0 {
			t.Fatalf("open: %s", acctest.Errors(diags))
		}
		pat := env.Mock.PersonalAccessTokens()[0]
		env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodDelete, Pattern: "/api/v4/personal_access_tokens/self", Answer: mockgitlab.AnswerHTML, Count: 5})
		diags = p.CloseEphemeral(acctest.KubernetesAccessType, private)
		if errs := acctest.Errors(diags); errs != "" {
			t.Fatalf("a failed revoke is an error, want a warning: %s", errs)
		}
		warnings := acctest.Warnings(diags)
		for _, w := range []string{fmt.Sprintf("Personal access token %d was not revoked", pat.ID), "is not one GitLab's API gives",
			`body starting with "<!DOCTYPE html>`, "00:00 UTC on " + pat.ExpiresAt, "base_url", "HTTPS_PROXY"} {
			if !strings.Contains(warnings, w) {
				t.Errorf("warnings lack %q:\n%s", w, warnings)
			}
		}
		if strings.Contains(warnings, pat.Token) || strings.Contains(warnings, "Terraform's state") {
			t.Errorf("the warning shows the token or speaks of state:\n%s", warnings)
		}
		if got := proxyStatus(t, stringAttr(t, result, "host"), stringAttr(t, result, "token")); got != http.StatusOK {
			t.Errorf("GET /version with the token that was not revoked: %d, want 200", got)
		}
	})
}

// A commit of the configuration file answered by something that is not GitLab's may have been made: a
// create answered {} after GitLab committed it is read back and taken; an update answered with HTML
// that GitLab never saw fails as unknown, and the next plan still shows the change.
func TestAccAnswers_agentConfigWritesAreReadBack(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: filesPattern, Answer: mockgitlab.AnswerEmptyObject, AfterCommit: true})
				},
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "info", "")),
				Check:  configKept(env),
			},
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPut, Pattern: filesPattern, Answer: mockgitlab.AnswerHTML})
				},
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug", "")),
				ExpectError: acctest.ErrorRegexp("The answer to PUT http", "is not one GitLab's API gives",
					`body starting with "<!DOCTYPE html>`, "Whether GitLab committed the update is unknown",
					"Terraform's state was left as it was", "base_url", "HTTPS_PROXY"),
			},
			{
				Config:   env.Config(agentConfigHCL(acctest.ProjectPath, "debug", "")),
				PlanOnly: true, ExpectNonEmptyPlan: true,
				Check: checkFile(env, wantDocument("info")),
			},
		},
	})
}
