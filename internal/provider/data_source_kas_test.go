package provider_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

const kasDataSource = "data.gitlabagent_kas.this"

// mockHost is the host:port of the mock behind env.
func mockHost(env *acctest.Env) string {
	return strings.TrimSuffix(strings.TrimPrefix(env.BaseURL, "http://"), "/api/v4")
}

func kasChecks(values map[string]knownvalue.Check) []statecheck.StateCheck {
	var checks []statecheck.StateCheck
	for attribute, check := range values {
		checks = append(checks, statecheck.ExpectKnownValue(kasDataSource, tfjsonpath.New(attribute), check))
	}
	return checks
}

func TestAccKASDataSource_enabled(t *testing.T) {
	env := acctest.New(t)
	host := mockHost(env)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(`data "gitlabagent_kas" "this" {}`),
			ConfigStateChecks: kasChecks(map[string]knownvalue.Check{
				"id":                     knownvalue.StringExact(env.BaseURL),
				"enabled":                knownvalue.Bool(true),
				"external_url":           knownvalue.StringExact("ws://" + host + "/-/kubernetes-agent/"),
				"external_k8s_proxy_url": knownvalue.StringExact("http://" + host + mockgitlab.KASProxyPath),
				"version":                knownvalue.StringExact(mockgitlab.DefaultGitLabVersion),
				"gitlab_version":         knownvalue.StringExact(mockgitlab.DefaultGitLabVersion + "-ee"),
				"gitlab_revision":        knownvalue.StringExact("6f1c2a9b3d4"),
				"gitlab_enterprise":      knownvalue.Bool(true),
			}),
		}, {
			// GitLab.com's addresses; KAS that GitLab cannot reach has no known version.
			PreConfig: func() {
				if err := env.Mock.SetSettings(mockgitlab.SeedSettings{Edition: mockgitlab.EditionCE, KASExternalURL: "wss://kas.gitlab.com"}); err != nil {
					t.Fatal(err)
				}
				env.Mock.SetKASReachable(false)
			},
			Config: env.Config(`data "gitlabagent_kas" "this" {}`),
			ConfigStateChecks: kasChecks(map[string]knownvalue.Check{
				"enabled":                knownvalue.Bool(true),
				"external_url":           knownvalue.StringExact("wss://kas.gitlab.com"),
				"external_k8s_proxy_url": knownvalue.StringExact("https://kas.gitlab.com/k8s-proxy"),
				"version":                knownvalue.Null(),
				"gitlab_version":         knownvalue.StringExact(mockgitlab.DefaultGitLabVersion),
				"gitlab_enterprise":      knownvalue.Bool(false),
			}),
		}},
	})
}

func TestAccKASDataSource_disabled(t *testing.T) {
	env := acctest.NewPlaying(t, mockgitlab.SeedSettings{KASDisabled: true})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(`data "gitlabagent_kas" "this" {}`),
			ConfigStateChecks: kasChecks(map[string]knownvalue.Check{
				"enabled":                knownvalue.Bool(false),
				"external_url":           knownvalue.Null(),
				"external_k8s_proxy_url": knownvalue.Null(),
				"version":                knownvalue.Null(),
				"gitlab_version":         knownvalue.StringExact(mockgitlab.DefaultGitLabVersion + "-ee"),
			}),
		}},
	})
}

// Before 17.6 GitLab does not send the proxy URL, before 15.6 not the edition: both are derived.
func TestAccKASDataSource_gitLab15(t *testing.T) {
	env := acctest.NewPlaying(t, mockgitlab.SeedSettings{GitLabVersion: "15.5.2", KASExternalURL: "grpc://gitlab.example.com:8150"})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(`data "gitlabagent_kas" "this" {}`),
			ConfigStateChecks: kasChecks(map[string]knownvalue.Check{
				"external_url":           knownvalue.StringExact("grpc://gitlab.example.com:8150"),
				"external_k8s_proxy_url": knownvalue.StringExact("http://gitlab.example.com:8150/k8s-proxy"),
				"gitlab_version":         knownvalue.StringExact("15.5.2-ee"),
				"gitlab_enterprise":      knownvalue.Bool(true),
			}),
		}},
	})
}

func TestAccKASDataSource_oldGitLab(t *testing.T) {
	env := acctest.NewPlaying(t, mockgitlab.SeedSettings{GitLabVersion: "15.1.6", Edition: mockgitlab.EditionCE})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config:      env.Config(`data "gitlabagent_kas" "this" {}`),
			ExpectError: acctest.ErrorRegexp("GitLab's metadata cannot be read: GitLab 15.1.6 is older than 15.2", "Upgrade GitLab"),
		}},
	})
}

func TestAccKASDataSource_refusedScope(t *testing.T) {
	env := acctest.New(t)
	const k8sProxyToken = "glpat-k8s-proxy-scope-only-00"
	if err := env.Mock.AddUser(mockgitlab.SeedUser{ID: 70, Username: "proxy-user", AccessTokens: []mockgitlab.SeedAccessToken{
		{Token: k8sProxyToken, Scopes: []string{"k8s_proxy"}},
	}}); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.ProviderBlock(k8sProxyToken) + `data "gitlabagent_kas" "this" {}`,
			ExpectError: acctest.ErrorRegexp("GitLab's metadata cannot be read: the token's scopes do not allow it",
				"`api`, `read_api`, `read_user` or `ai_features`"),
		}},
	})
}

// One provider instance reads GET /metadata once, however many data sources and errors need it.
func TestKASDataSource_oneMetadataReadPerProvider(t *testing.T) {
	t.Parallel()
	env := acctest.NewMock(t)
	if err := env.Mock.SetSettings(mockgitlab.SeedSettings{Edition: mockgitlab.EditionCE}); err != nil {
		t.Fatal(err)
	}
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, "production", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	p := env.Protocol(t, acctest.MaintainerToken)
	for range 3 {
		resp := p.ReadDataSource(p.DataSourceRequest("gitlabagent_kas", nil))
		if len(resp.Diagnostics) != 0 {
			t.Fatalf("diagnostics: %v", resp.Diagnostics)
		}
		v := p.DataSourceValue("gitlabagent_kas", resp.State)
		var attrs map[string]tftypes.Value
		if err := v.As(&attrs); err != nil {
			t.Fatal(err)
		}
		var enabled bool
		if err := attrs["enabled"].As(&enabled); err != nil || !enabled {
			t.Fatalf("enabled = %v, %v", enabled, err)
		}
	}
	// The receptive-agent errors of the Community Edition read the same answer.
	resp := p.ReadDataSource(p.DataSourceRequest("gitlabagent_cluster_agent_url_configurations", map[string]tftypes.Value{
		"project":  tftypes.NewValue(tftypes.String, acctest.ProjectPath),
		"agent_id": tftypes.NewValue(tftypes.Number, agent.ID),
	}))
	if len(resp.Diagnostics) == 0 || !strings.Contains(resp.Diagnostics[0].Summary, "Community Edition") {
		t.Fatalf("diagnostics: %v", resp.Diagnostics)
	}
	if n := env.Mock.CountRequests(http.MethodGet, "/api/v4/metadata"); n != 1 {
		t.Fatalf("GET /metadata sent %d times by one provider, want 1", n)
	}
	// Another provider instance (another run) asks again.
	other := env.ProtocolOn(t, provider.NewServer(provider.New("test")())(), acctest.MaintainerToken)
	other.ReadDataSource(other.DataSourceRequest("gitlabagent_kas", nil))
	if n := env.Mock.CountRequests(http.MethodGet, "/api/v4/metadata"); n != 2 {
		t.Fatalf("GET /metadata sent %d times by two providers, want 2", n)
	}
}
