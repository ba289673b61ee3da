package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// TestAccAPIToken_scopesAndStates uses API tokens GitLab knows but limits: a
// read_api token reads and cannot write; an expired or a revoked token is
// refused. Each error says what to do.
func TestAccAPIToken_scopesAndStates(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	read := fmt.Sprintf(`
data "gitlabagent_cluster_agent" "test" {
  project  = "root/test"
  agent_id = %d
}
`, agentID)
	write := read + `
resource "gitlabagent_cluster_agent" "new" {
  project = "root/test"
  name    = "needs-api-scope"
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				// read_api is enough for data sources.
				Config: env.ProviderBlock(mockgitlab.DefaultReadAPIToken) + read,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.test", tfjsonpath.New("name"), knownvalue.StringExact("production")),
				},
			},
			{
				Config: env.ProviderBlock(mockgitlab.DefaultReadAPIToken) + write,
				ExpectError: acctest.ErrorRegexp("Failed to register agent", "403 insufficient_scope",
					"allow reading only", "a token with the `api` scope"),
			},
			{
				Config:      env.ProviderBlock(mockgitlab.DefaultExpiredToken) + read,
				ExpectError: acctest.ErrorRegexp("it has expired (401 invalid_token)", "Create a new token", "`token`"),
			},
			{
				Config:      env.ProviderBlock(mockgitlab.DefaultRevokedToken) + read,
				ExpectError: acctest.ErrorRegexp("it was revoked (401 invalid_token)", "create a new token", "`token`"),
			},
		},
	})
	for _, a := range env.Mock.Agents(acctest.ProjectID) {
		if a.Name == "needs-api-scope" {
			t.Error("a read_api token registered an agent")
		}
	}
}

// TestAccAgentTokens_grandfatheredBeyondTwo reads an agent that holds three
// active tokens, as agents that had them before GitLab 16.2 still do.
func TestAccAgentTokens_grandfatheredBeyondTwo(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	var tokens []mockgitlab.TokenInfo
	for _, name := range []string{"old-1", "old-2", "old-3"} {
		tok, err := env.Mock.CreateGrandfatheredToken(agentID, name, "", acctest.MaintainerUserID)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	checks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent_tokens.all", tfjsonpath.New("tokens"), knownvalue.ListSizeExact(3)),
	}
	for i, tok := range tokens {
		checks = append(checks, tokenAttributeChecks("data.gitlabagent_cluster_agent_tokens.all", listElement(i), tok)...)
	}
	checks = append(checks, tokenAttributeChecks("data.gitlabagent_cluster_agent_token.third",
		func(a string) tfjsonpath.Path { return tfjsonpath.New(a) }, tokens[2])...)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(fmt.Sprintf(`
data "gitlabagent_cluster_agent_tokens" "all" {
  project  = "root/test"
  agent_id = %[1]d
}

data "gitlabagent_cluster_agent_token" "third" {
  project  = "root/test"
  agent_id = %[1]d
  token_id = %[2]d
}
`, agentID, tokens[2].ID)),
			ConfigStateChecks: checks,
		}},
	})
}
