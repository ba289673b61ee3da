package provider_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// tokenAttributeChecks checks every attribute GitLab tells about a token;
// at gives the path of each attribute in the data source.
func tokenAttributeChecks(address string, at func(attribute string) tfjsonpath.Path, tok mockgitlab.TokenInfo) []statecheck.StateCheck {
	var description knownvalue.Check = knownvalue.Null()
	if tok.Description != "" {
		description = knownvalue.StringExact(tok.Description)
	}
	var lastUsed knownvalue.Check = knownvalue.Null()
	if tok.LastUsedAt != nil {
		lastUsed = knownvalue.StringExact(acctest.Timestamp(*tok.LastUsedAt))
	}
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(address, at("token_id"), knownvalue.Int64Exact(tok.ID)),
		statecheck.ExpectKnownValue(address, at("agent_id"), knownvalue.Int64Exact(tok.AgentID)),
		statecheck.ExpectKnownValue(address, at("name"), knownvalue.StringExact(tok.Name)),
		statecheck.ExpectKnownValue(address, at("description"), description),
		statecheck.ExpectKnownValue(address, at("status"), knownvalue.StringExact("active")),
		statecheck.ExpectKnownValue(address, at("created_at"), knownvalue.StringExact(acctest.Timestamp(tok.CreatedAt))),
		statecheck.ExpectKnownValue(address, at("created_by_user_id"), knownvalue.Int64Exact(tok.CreatedByUserID)),
		statecheck.ExpectKnownValue(address, at("last_used_at"), lastUsed),
	}
}

func listElement(i int) func(string) tfjsonpath.Path {
	return func(attribute string) tfjsonpath.Path {
		return tfjsonpath.New("tokens").AtSliceIndex(i).AtMapKey(attribute)
	}
}

func TestAccClusterAgentTokensDataSource_everyAttribute(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	create := func(name, description string) mockgitlab.TokenInfo {
		tok, err := env.Mock.CreateToken(agentID, name, description, acctest.MaintainerUserID)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	revoked := create("old", "revoked, not listed")
	idle := create("idle", "")
	if err := env.Mock.RevokeToken(revoked.ID); err != nil {
		t.Fatal(err)
	}
	used := create("used", "agentk in eu-1")
	usedAt := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := env.Mock.MarkTokenUsed(used.ID, usedAt); err != nil {
		t.Fatal(err)
	}
	used.LastUsedAt = &usedAt

	const list, one = "data.gitlabagent_cluster_agent_tokens.all", "data.gitlabagent_cluster_agent_token.used"
	// GitLab lists the most recently used first, although "used" was created last.
	checks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(list, tfjsonpath.New("tokens"), knownvalue.ListSizeExact(2)),
		statecheck.ExpectKnownValue(list, tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("20:%d", agentID))),
		statecheck.ExpectKnownValue(list, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
		statecheck.ExpectKnownValue(one, tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("20:%d:%d", agentID, used.ID))),
		statecheck.ExpectKnownValue(one, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
		statecheck.ExpectKnownValue(one, tfjsonpath.New("project"), knownvalue.StringExact(acctest.ProjectPath)),
	}
	checks = append(checks, tokenAttributeChecks(list, listElement(0), used)...)
	checks = append(checks, tokenAttributeChecks(list, listElement(1), idle)...)
	checks = append(checks, tokenAttributeChecks(one, tfjsonpath.New, used)...)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			// Reading needs only the Developer role.
			Config: env.ProviderBlock(acctest.DeveloperToken) + fmt.Sprintf(`
data "gitlabagent_cluster_agent_tokens" "all" {
  project  = "root/test"
  agent_id = %d
}

data "gitlabagent_cluster_agent_token" "used" {
  project  = "root/test"
  agent_id = %d
  token_id = %d
}
`, agentID, agentID, used.ID),
			ConfigStateChecks: checks,
			Check: resource.ComposeAggregateTestCheckFunc(
				func(s *terraform.State) error {
					// Neither data source carries a secret.
					for _, tok := range []mockgitlab.TokenInfo{revoked, idle, used} {
						for _, address := range []string{list, one} {
							for attribute, value := range s.RootModule().Resources[address].Primary.Attributes {
								if value == tok.Token {
									return fmt.Errorf("%s.%s holds the secret of token %d", address, attribute, tok.ID)
								}
							}
						}
					}
					return nil
				},
				// One list, and one GET per listed token for last_used_at, per read.
				func(*terraform.State) error {
					lists := env.Mock.CountRequests("GET", tokensPath)
					gets := env.Mock.CountRequests("GET", tokenPath)
					if lists == 0 || gets != 3*lists {
						return fmt.Errorf("saw %d lists and %d token GETs; want 2 GETs per list plus 1 per single read", lists, gets)
					}
					return nil
				},
			),
		}},
	})
}

func TestAccClusterAgentTokenDataSource_errors(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	tok, err := env.Mock.CreateToken(agentID, "revoked", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Mock.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				// GitLab answers 404 for a revoked token.
				Config: env.Config(fmt.Sprintf(`
data "gitlabagent_cluster_agent_token" "revoked" {
  project  = "root/test"
  agent_id = %d
  token_id = %d
}
`, agentID, tok.ID)),
				ExpectError: wrapped(fmt.Sprintf(`Failed to read token %d`, tok.ID),
					fmt.Sprintf(`Token %d of agent %d of project "root/test" does not exist`, tok.ID, agentID)),
			},
			{
				// A Reporter cannot see an agent's tokens.
				Config: env.ProviderBlock(acctest.ReporterToken) + fmt.Sprintf(`
data "gitlabagent_cluster_agent_tokens" "hidden" {
  project  = "root/test"
  agent_id = %d
}
`, agentID),
				ExpectError: wrapped(fmt.Sprintf(`Failed to list the tokens of agent %d`, agentID),
					fmt.Sprintf(`Agent %d of project "root/test" does not exist, or the token's user cannot see it`, agentID)),
			},
		},
	})
}
