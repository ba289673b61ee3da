package provider_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest/gitlabstandin"
)

// moveTestProviders serves this provider and the stand-in for the official
// one under the namespace gitlabhq, as the official provider is published;
// configurations name both with fully qualified sources (moveProvidersBlock).
func moveTestProviders(t *testing.T) map[string]func() (tfprotov6.ProviderServer, error) {
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "gitlabhq")
	factories := acctest.ProviderFactories()
	factories["gitlab"] = providerserver.NewProtocol6WithError(gitlabstandin.New())
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
			if r.Method != http.MethodGet {
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

// MoveResourceState through the protocol: state as every version of the
// official provider stored it, and state that cannot be moved.
func TestMoveResourceState(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	const official = "registry.terraform.io/gitlabhq/gitlab"
	const agent = "gitlabagent_cluster_agent"
	const token = "gitlabagent_cluster_agent_token"

	t.Run("SDKv2 token state: empty strings, project ID", func(t *testing.T) {
		// What the SDKv2 versions (until 18.2) stored: "" for an unset
		// description and a token never used, timestamps to the second.
		state, private, identity, diags := p.Move(official, "gitlab_cluster_agent_token", 0, `{
			"id": "20:3:7", "project": "20", "agent_id": 3, "token_id": 7, "name": "agentk",
			"description": "", "token": "glagent-secret", "status": "active",
			"created_at": "2024-05-01T10:00:41Z", "created_by_user_id": 2, "last_used_at": ""}`, token)
		if e := acctest.Errors(diags); e != "" {
			t.Fatal(e)
		}
		for attr, want := range map[string]tftypes.Value{
			"id": str("20:3:7"), "project": str("20"), "project_id": number(20), "agent_id": number(3),
			"token_id": number(7), "name": str("agentk"), "token": str("glagent-secret"),
			"description": tftypes.NewValue(tftypes.String, nil), "status": str("active"),
			"created_at": str("2024-05-01T10:00:41Z"), "created_by_user_id": number(2),
			"rotate_after": tftypes.NewValue(tftypes.String, nil),
			"last_used_at": tftypes.NewValue(tftypes.String, nil),
		} {
			if got := acctest.Attr(state, attr); !got.Equal(want) {
				t.Errorf("%s = %v, want %v", attr, got, want)
			}
		}
		if want := map[string]int64{"project_id": 20, "agent_id": 3, "token_id": 7}; !sameIDs(identity, want) {
			t.Errorf("identity %v, want %v", identity, want)
		}
		if len(private) != 0 && regexp.MustCompile(`imported`).Match(private) {
			t.Error("a token moved with its secret is marked imported")
		}
	})

	t.Run("agent in a project written as its path", func(t *testing.T) {
		state, _, identity, diags := p.Move("registry.opentofu.org/gitlabhq/gitlab", "gitlab_cluster_agent", 0, `{
			"id": "root/test:42", "project": "root/test", "name": "production", "agent_id": 42,
			"created_at": "2024-05-01T10:00:41Z", "created_by_user_id": 2}`, agent)
		if e := acctest.Errors(diags); e != "" {
			t.Fatal(e)
		}
		for attr, want := range map[string]tftypes.Value{
			"project": str("root/test"), "agent_id": number(42), "name": str("production"),
			// Resolved by the first read, which sends the one GET a refresh sends anyway.
			"project_id": tftypes.NewValue(tftypes.Number, nil), "id": tftypes.NewValue(tftypes.String, nil),
		} {
			if got := acctest.Attr(state, attr); !got.Equal(want) {
				t.Errorf("%s = %v, want %v", attr, got, want)
			}
		}
		// No partial identity: it would look like one that changed at the first read.
		if len(identity) != 0 {
			t.Errorf("identity %v before the project ID is known, want none", identity)
		}
	})

	t.Run("token imported into the official provider: no secret", func(t *testing.T) {
		state, _, _, diags := p.Move(official, "gitlab_cluster_agent_token", 0, `{
			"project": "root/test", "agent_id": 3, "token_id": 7, "name": "agentk", "token": null}`, token)
		if e := acctest.Errors(diags); e != "" {
			t.Fatal(e)
		}
		if got := acctest.Attr(state, "token"); !got.IsNull() {
			t.Errorf("token = %v, want null", got)
		}
		if w := acctest.Warnings(diags); !acctest.ErrorRegexp("Token secret not imported", "token 7").MatchString(w) {
			t.Errorf("warnings %q do not say the secret is missing", w)
		}
	})

	for _, tc := range []struct {
		name, provider, sourceType, raw, target string
		want                                    *regexp.Regexp
	}{
		{"missing IDs", official, "gitlab_cluster_agent_token",
			`{"project": "root/test", "agent_id": 3, "name": "agentk", "token": "glagent-secret"}`, token,
			acctest.ErrorRegexp("Cannot move gitlab_cluster_agent_token", "has no token_id", "Nothing was changed")},
		{"empty project", official, "gitlab_cluster_agent",
			`{"project": "", "name": "x", "agent_id": 4}`, agent,
			acctest.ErrorRegexp("Cannot move gitlab_cluster_agent", "has no project")},
		{"wrong types", official, "gitlab_cluster_agent",
			`{"project": "root/test", "name": "x", "agent_id": "four"}`, agent,
			acctest.ErrorRegexp("Cannot move gitlab_cluster_agent", "agent_id is a string, expected a number")},
		{"another resource type", official, "gitlab_project", `{"id": "20"}`, agent,
			acctest.ErrorRegexp("Unable to Move Resource State", "does not include support for the given source")},
		{"another provider", "registry.terraform.io/hashicorp/random", "gitlab_cluster_agent",
			`{"project": "root/test", "name": "x", "agent_id": 4}`, agent,
			acctest.ErrorRegexp("Unable to Move Resource State", "does not include support for the given source")},
		{"an agent into a token", official, "gitlab_cluster_agent",
			`{"project": "root/test", "name": "x", "agent_id": 4}`, token,
			acctest.ErrorRegexp("Unable to Move Resource State", "does not include support for the given source")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, diags := p.Move(tc.provider, tc.sourceType, 0, tc.raw, tc.target)
			if e := acctest.Errors(diags); !tc.want.MatchString(e) {
				t.Errorf("error %q, want %s", e, tc.want)
			}
		})
	}
	if n := len(env.Mock.Requests()); n != 0 {
		t.Errorf("moving sent %d requests to GitLab, want none", n)
	}
}

// The migration guide's example moves what the official provider created
// from the same inputs, with nothing planned and nothing sent but reads.
func TestAccMoveFromGitLabProvider_guideExample(t *testing.T) {
	env := acctest.New(t)
	guide := strings.ReplaceAll(readExample(t, "guides/migrate-from-gitlab-provider-moved.tf"), `"platform/clusters"`, `"root/test"`)
	sameSecret := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		ProtoV6ProviderFactories: moveTestProviders(t),
		Steps: []resource.TestStep{
			{
				Config: moveProvidersBlock(env) + `
resource "gitlab_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

resource "gitlab_cluster_agent_token" "production" {
  project     = gitlab_cluster_agent.production.project
  agent_id    = gitlab_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in the production cluster"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					sameSecret.AddStateValue("gitlab_cluster_agent_token.production", tfjsonpath.New("token")),
				},
			},
			{
				PreConfig: env.Mock.ResetRequests,
				Config:    moveProvidersBlock(env) + guide,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameSecret.AddStateValue("gitlabagent_cluster_agent_token.production", tfjsonpath.New("token")),
				},
				Check: expectOnlyReads(env),
			},
		},
	})
}
