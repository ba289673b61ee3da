package provider_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// moveTestProviders serves this provider and the stand-in for the official
// one under the namespace gitlabhq, as the official provider is published;
// configurations name both with fully qualified sources (moveProvidersBlock).
func moveTestProviders(t *testing.T) map[string]func() (tfprotov6.ProviderServer, error) {
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "gitlabhq")
	factories := acctest.ProviderFactories()
	factories["gitlab"] = providerserver.NewProtocol6WithError(newGitLabStandIn())
	return factories
}

func moveProvidersBlock(env *acctest.Env) string {
	host := acctest.ProviderHost()
	return fmt.Sprintf(`
terraform {
  required_providers {
    gitlab = {
      source = "%[1]s/gitlabhq/gitlab"
    }
    gitlabagent = {
      source = "%[1]s/gitlabhq/gitlabagent"
    }
  }
}

provider "gitlab" {
  base_url = %[2]q
  token    = %[3]q
}
`, host, env.BaseURL, acctest.MaintainerToken) + env.ProviderBlock(acctest.MaintainerToken)
}

// Two agents with a token each, managed by the official provider: one in a
// project written as its path, with a described token, one in a project
// written as its numeric ID, with an undescribed token.
const officialResources = `
resource "gitlab_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

resource "gitlab_cluster_agent_token" "production" {
  project     = gitlab_cluster_agent.production.project
  agent_id    = gitlab_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in production"
}

resource "gitlab_cluster_agent" "staging" {
  project = "20"
  name    = "staging"
}

resource "gitlab_cluster_agent_token" "staging" {
  project  = gitlab_cluster_agent.staging.project
  agent_id = gitlab_cluster_agent.staging.agent_id
  name     = "agentk"
}
`

// The same objects in this provider, as the migration guide writes them.
const movedResources = `
moved {
  from = gitlab_cluster_agent.production
  to   = gitlabagent_cluster_agent.production
}

moved {
  from = gitlab_cluster_agent_token.production
  to   = gitlabagent_cluster_agent_token.production
}

moved {
  from = gitlab_cluster_agent.staging
  to   = gitlabagent_cluster_agent.staging
}

moved {
  from = gitlab_cluster_agent_token.staging
  to   = gitlabagent_cluster_agent_token.staging
}

resource "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

resource "gitlabagent_cluster_agent_token" "production" {
  project     = gitlabagent_cluster_agent.production.project
  agent_id    = gitlabagent_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in production"
}

resource "gitlabagent_cluster_agent" "staging" {
  project = "20"
  name    = "staging"
}

resource "gitlabagent_cluster_agent_token" "staging" {
  project  = gitlabagent_cluster_agent.staging.project
  agent_id = gitlabagent_cluster_agent.staging.agent_id
  name     = "agentk"
}
`

// expectOnlyReads fails if the mock GitLab saw any request but a GET since
// the step began: moving creates, revokes and deletes nothing.
func expectOnlyReads(env *acctest.Env) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reads := 0
		for _, r := range env.Mock.Requests() {
			if r.Method != "GET" {
				return fmt.Errorf("moving sent %s %s; want reads only (log: %v)", r.Method, r.Path, env.Mock.Requests())
			}
			reads++
		}
		if reads == 0 {
			return fmt.Errorf("the mock GitLab saw no request: the moved objects were not refreshed")
		}
		return nil
	}
}

// TestAccMoveFromGitLabProvider creates agents and tokens with (a stand-in
// for) the official provider, then moves them with moved blocks: the plan is
// empty, the token secrets are the ones GitLab gave the official provider,
// and nothing is created or revoked in GitLab.
func TestAccMoveFromGitLabProvider(t *testing.T) {
	env := acctest.New(t)
	// Each token's secret and ID, as the official provider stored them, must
	// be what this provider holds after the move.
	sameSecret := map[string]interface {
		AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
	}{}
	sameToken := map[string]interface {
		AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
	}{}
	for _, name := range []string{"production", "staging"} {
		sameSecret[name] = statecheck.CompareValue(compare.ValuesSame())
		sameToken[name] = statecheck.CompareValue(compare.ValuesSame())
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: moveTestProviders(t),
		Steps: []resource.TestStep{
			{
				Config: moveProvidersBlock(env) + officialResources,
				ConfigStateChecks: []statecheck.StateCheck{
					sameSecret["production"].AddStateValue("gitlab_cluster_agent_token.production", tfjsonpath.New("token")),
					sameSecret["staging"].AddStateValue("gitlab_cluster_agent_token.staging", tfjsonpath.New("token")),
					sameToken["production"].AddStateValue("gitlab_cluster_agent_token.production", tfjsonpath.New("token_id")),
					sameToken["staging"].AddStateValue("gitlab_cluster_agent_token.staging", tfjsonpath.New("token_id")),
					// The official provider's way of storing timestamps, which the move must read.
					statecheck.ExpectKnownValue("gitlab_cluster_agent.staging", tfjsonpath.New("created_at"), knownvalue.StringRegexp(regexp.MustCompile(`:\d\dZ$`))),
				},
			},
			{
				PreConfig: env.Mock.ResetRequests,
				Config:    moveProvidersBlock(env) + movedResources,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectEmptyPlan(),
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent.production", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent_token.production", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent.staging", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent_token.staging", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameSecret["production"].AddStateValue("gitlabagent_cluster_agent_token.production", tfjsonpath.New("token")),
					sameSecret["staging"].AddStateValue("gitlabagent_cluster_agent_token.staging", tfjsonpath.New("token")),
					sameToken["production"].AddStateValue("gitlabagent_cluster_agent_token.production", tfjsonpath.New("token_id")),
					sameToken["staging"].AddStateValue("gitlabagent_cluster_agent_token.staging", tfjsonpath.New("token_id")),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent_token.production", tfjsonpath.New("token"), knownvalue.StringRegexp(tokenFormat)),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent.production", tfjsonpath.New("project"), knownvalue.StringExact("root/test")),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent.production", tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent.staging", tfjsonpath.New("project"), knownvalue.StringExact("20")),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent_token.production", tfjsonpath.New("description"), knownvalue.StringExact("Token of agentk in production")),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent_token.staging", tfjsonpath.New("description"), knownvalue.Null()),
					statecheck.ExpectKnownValue("gitlabagent_cluster_agent_token.staging", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					expectOnlyReads(env),
					checkMovedSecretsAreGitLabs(env),
				),
			},
			{
				// And the moved resources are managed as usual from then on.
				Config: moveProvidersBlock(env) + movedResources,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
	if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
		t.Errorf("destroying the moved agents left %d in the mock GitLab", n)
	}
}

// checkMovedSecretsAreGitLabs compares each moved token's secret with the one
// the mock GitLab issued for that token.
func checkMovedSecretsAreGitLabs(env *acctest.Env) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, name := range []string{"production", "staging"} {
			address := "gitlabagent_cluster_agent_token." + name
			id, err := acctest.Int64Attribute(s, address, "token_id")
			if err != nil {
				return err
			}
			tok, ok := env.Mock.Token(id)
			if !ok {
				return fmt.Errorf("token %d of %s is not in the mock GitLab", id, address)
			}
			secret, err := acctest.Attribute(s, address, "token")
			if err != nil {
				return err
			}
			if secret != tok.Token {
				return fmt.Errorf("%s holds a secret that is not the one GitLab issued for token %d", address, id)
			}
		}
		return nil
	}
}
