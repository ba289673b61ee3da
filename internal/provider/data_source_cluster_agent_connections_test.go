package provider_test

import (
	"fmt"
	"net/http"
	"regexp"
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

const connectionsDataSource = "data.gitlabagent_cluster_agent_connections.this"

func connectionsConfig(project string, agentID int64, extra string) string {
	return fmt.Sprintf(`
data "gitlabagent_cluster_agent_connections" "this" {
  project  = %q
  agent_id = %d
  %s
}
`, project, agentID, extra)
}

func TestAccClusterAgentConnectionsDataSource_connected(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	connection := func(i int) func(string) tfjsonpath.Path {
		return func(attribute string) tfjsonpath.Path {
			return tfjsonpath.New("connections").AtSliceIndex(i).AtMapKey(attribute)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			// Registered, with a token that was used: not connected all the same.
			PreConfig: func() {
				tok, err := env.Mock.CreateToken(agentID, "cluster", "", acctest.MaintainerUserID)
				if err != nil {
					t.Fatal(err)
				}
				if err := env.Mock.MarkTokenUsed(tok.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			},
			Config: env.Config(connectionsConfig(acctest.ProjectPath, agentID, "")),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("20:%d", agentID))),
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("agent_name"), knownvalue.StringExact("production")),
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("connected"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("connections"), knownvalue.ListExact([]knownvalue.Check{})),
			},
		}, {
			// agentk connects from two pods, one of them warned about.
			PreConfig: func() {
				if _, err := env.Mock.ConnectAgent(agentID, mockgitlab.AgentConnection{ConnectionID: 1234567890123, ConnectedAt: at,
					Version: "v18.0.0", Commit: "abc1234", PodNamespace: "gitlab-agent-production", PodName: "production-6d5f-xk2",
					Warnings: []mockgitlab.AgentVersionWarning{{Message: "agentk is two minor versions behind KAS", Type: "version_skew"}}}); err != nil {
					t.Fatal(err)
				}
				if _, err := env.Mock.ConnectAgent(agentID, mockgitlab.AgentConnection{ConnectionID: 7, ConnectedAt: at.Add(time.Minute),
					PodName: "production-6d5f-ab1"}); err != nil {
					t.Fatal(err)
				}
			},
			Config: env.Config(connectionsConfig(fmt.Sprint(acctest.ProjectID), agentID, "")),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("connected"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("connections"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("connection_id"), knownvalue.Int64Exact(1234567890123)),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("connected_at"), knownvalue.StringExact("2025-05-01T10:00:00Z")),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("version"), knownvalue.StringExact("v18.0.0")),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("commit"), knownvalue.StringExact("abc1234")),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("pod_namespace"), knownvalue.StringExact("gitlab-agent-production")),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("pod_name"), knownvalue.StringExact("production-6d5f-xk2")),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(0)("warnings"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"type":    knownvalue.StringExact("version_skew"),
						"message": knownvalue.StringExact("agentk is two minor versions behind KAS"),
					}),
				})),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(1)("connection_id"), knownvalue.Int64Exact(7)),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(1)("version"), knownvalue.StringExact("v"+mockgitlab.DefaultGitLabVersion)),
				statecheck.ExpectKnownValue(connectionsDataSource, connection(1)("warnings"), knownvalue.ListExact([]knownvalue.Check{})),
			},
		}},
	})
}

// Each answer from which GitLab cannot tell whether agentk is connected is an error that says why.
func TestAccClusterAgentConnectionsDataSource_gitLabCannotTell(t *testing.T) {
	cases := []struct {
		name   string
		token  string
		before func(env *acctest.Env)
		want   *regexp.Regexp
	}{{
		name:  "below Maintainer",
		token: acctest.DeveloperToken,
		want: acctest.ErrorRegexp("The token's user may not see the connections of agent",
			"as it does to every caller below the Maintainer role", "whether it is connected is unknown"),
	}, {
		name:   "KAS unreachable",
		before: func(env *acctest.Env) { env.Mock.SetKASReachable(false) },
		want: acctest.ErrorRegexp("GitLab could not ask its agent server (KAS) about the agent's connections",
			`"GRPC::Unavailable"`, `This is not "not connected"`),
	}, {
		name: "KAS disabled",
		before: func(env *acctest.Env) {
			if err := env.Mock.SetSettings(mockgitlab.SeedSettings{KASDisabled: true}); err != nil {
				panic(err)
			}
		},
		want: acctest.ErrorRegexp("KAS is not configured", `"Gitlab::Kas::Client::ConfigurationError"`, "gitlabagent_kas"),
	}, {
		name: "null project",
		before: func(env *acctest.Env) {
			env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 200, Body: `{"data":{"project":null}}`})
		},
		want: acctest.ErrorRegexp(`GitLab's GraphQL API does not show project "root/test"`, "renamed or moved"),
	}, {
		name: "null agent",
		before: func(env *acctest.Env) {
			env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 200,
				Body: `{"data":{"project":{"userPermissions":{"adminProject":true},"clusterAgent":null}}}`})
		},
		want: acctest.ErrorRegexp(`GitLab's GraphQL API does not show agent "production" of project "root/test"`, "Developer role"),
	}, {
		name: "invalid token",
		before: func(env *acctest.Env) {
			env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 401,
				Body: `{"errors":[{"message":"Invalid token"}]}`})
		},
		want: acctest.ErrorRegexp(`GitLab's GraphQL API refused the token (401 "Invalid token")`, "`api` scope"),
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := acctest.New(t)
			agentID := newTestAgent(t, env)
			if _, err := env.Mock.ConnectAgent(agentID, mockgitlab.AgentConnection{}); err != nil {
				t.Fatal(err)
			}
			if tc.before != nil {
				tc.before(env)
			}
			token := tc.token
			if token == "" {
				token = acctest.MaintainerToken
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				Steps: []resource.TestStep{{
					Config:      env.ProviderBlock(token) + connectionsConfig(acctest.ProjectPath, agentID, `wait_for_connection = "1m"`),
					ExpectError: tc.want,
				}},
			})
		})
	}
}

func TestAccClusterAgentConnectionsDataSource_waitSucceeds(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	var started time.Time
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			// agentk connects while the read waits.
			PreConfig: func() {
				started = time.Now()
				go func() {
					for env.Mock.CountRequests(http.MethodPost, "/api/graphql") < 2 {
						time.Sleep(50 * time.Millisecond)
					}
					if _, err := env.Mock.ConnectAgent(agentID, mockgitlab.AgentConnection{PodName: "production-1"}); err != nil {
						panic(err)
					}
				}()
			},
			Config: env.Config(connectionsConfig(acctest.ProjectPath, agentID, `wait_for_connection = "2m"`)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("connected"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(connectionsDataSource, tfjsonpath.New("connections").AtSliceIndex(0).AtMapKey("pod_name"),
					knownvalue.StringExact("production-1")),
			},
			Check: func(*terraform.State) error {
				if took := time.Since(started); took > time.Minute {
					return fmt.Errorf("the wait took %s", took)
				}
				return nil
			},
		}},
	})
}

func TestAccClusterAgentConnectionsDataSource_waitTimesOut(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	var started time.Time
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			PreConfig: func() { started = time.Now() },
			Config:    env.Config(connectionsConfig(acctest.ProjectPath, agentID, `wait_for_connection = "3s"`)),
			ExpectError: acctest.ErrorRegexp(fmt.Sprintf("Agent %d did not connect within 3s", agentID),
				"agentk runs", "agentk's logs", "The token", "The KAS address", "external_url", "The network"),
		}},
	})
	// The error came after the wait, not before, and GitLab was asked more than once.
	if took := time.Since(started); took < 3*time.Second {
		t.Fatalf("gave up after %s", took)
	}
	if n := env.Mock.CountRequests(http.MethodPost, "/api/graphql"); n < 3 {
		t.Fatalf("asked GitLab %d times while waiting", n)
	}
}

func TestAccClusterAgentConnectionsDataSource_invalidWait(t *testing.T) {
	env := acctest.New(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config:      env.Config(connectionsConfig(acctest.ProjectPath, 1, `wait_for_connection = "3 minutes"`)),
			ExpectError: acctest.ErrorRegexp("Invalid duration", `"3 minutes" is not a duration`),
		}, {
			Config:      env.Config(connectionsConfig(acctest.ProjectPath, 1, `wait_for_connection = "2h"`)),
			ExpectError: acctest.ErrorRegexp("Invalid duration", "longer than 1h0m0s"),
		}, {
			PreConfig: func() {
				if n := len(env.Mock.Requests()); n != 0 {
					t.Fatalf("a bad wait_for_connection sent %d requests", n)
				}
			},
			Config:      env.Config(connectionsConfig(acctest.ProjectPath, 999, "")),
			ExpectError: acctest.ErrorRegexp("Failed to read agent 999"),
		}},
	})
}
