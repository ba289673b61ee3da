package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// The provider against each GitLab the mock plays: the Community Edition,
// Enterprise Edition before 17.4, without Ultimate, with receptive agents
// switched off, and GitLab EE 17.x, which takes and returns certificates
// Base64-encoded. Agents and their data sources work everywhere; the
// URL-configuration resource and data sources work, or fail with one error
// that says what is missing.

// agentsHCL is an agent with both agent data sources reading it.
const agentsHCL = `
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "edition"
}

data "gitlabagent_cluster_agent" "by_id" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.test.agent_id
}

data "gitlabagent_cluster_agents" "all" {
  project    = "root/test"
  depends_on = [gitlabagent_cluster_agent.test]
}
`

// isReceptiveChecks checks is_receptive on both agent data sources (the
// agent resource has none).
func isReceptiveChecks(want knownvalue.Check) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.by_id", tfjsonpath.New("is_receptive"), want),
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all",
			tfjsonpath.New("cluster_agents").AtSliceIndex(0).AtMapKey("is_receptive"), want),
		statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all", tfjsonpath.New("cluster_agents"), knownvalue.ListSizeExact(1)),
	}
}

// urlConfigurationUsesHCL adds the URL-configuration resource or data sources to agentsHCL.
var urlConfigurationUsesHCL = map[string]string{
	"resource": agentsHCL + `
resource "gitlabagent_cluster_agent_url_configuration" "test" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.test.agent_id
  url      = "grpcs://agent.example.com:4242"
}
`,
	"list data source": agentsHCL + `
data "gitlabagent_cluster_agent_url_configurations" "all" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.test.agent_id
}
`,
	"data source": agentsHCL + `
data "gitlabagent_cluster_agent_url_configuration" "one" {
  project              = "root/test"
  agent_id             = gitlabagent_cluster_agent.test.agent_id
  url_configuration_id = 1
}
`,
}

func TestAccGitLabEditions_withoutReceptiveAgents(t *testing.T) {
	cases := []struct {
		name     string
		settings mockgitlab.SeedSettings
		// isReceptive is what agents report: null where GitLab has no is_receptive.
		isReceptive knownvalue.Check
		// token is the API token; want is what the error says.
		errors map[string][]string
	}{
		{
			name:        "Community Edition",
			settings:    mockgitlab.SeedSettings{Edition: "ce"},
			isReceptive: knownvalue.Null(),
			errors: map[string][]string{
				acctest.MaintainerToken: {"Receptive agents are not available: the Community Edition has none",
					"GitLab Community Edition 19.0.0 is the Community Edition", "Enterprise Edition 17.4 or later"},
			},
		},
		{
			name:        "Enterprise Edition before 17.4",
			settings:    mockgitlab.SeedSettings{Edition: "ee", ReceptiveAgents: true, GitLabVersion: "17.2.1"},
			isReceptive: knownvalue.Null(),
			errors: map[string][]string{
				acctest.MaintainerToken: {"Receptive agents are not available: GitLab 17.2.1-ee is older than 17.4", "Upgrade GitLab"},
			},
		},
		{
			name:        "Enterprise Edition without Ultimate",
			settings:    mockgitlab.SeedSettings{Edition: "ee", Licence: "premium", ReceptiveAgents: true},
			isReceptive: knownvalue.Bool(false),
			errors: map[string][]string{
				acctest.RootToken: {"Receptive agents are not available: this GitLab has no Ultimate licence", "Admin > Subscription"},
				acctest.MaintainerToken: {"Receptive agents are not available: no Ultimate licence, or receptive_cluster_agents_enabled is off",
					"only an administrator can tell", "Admin > Subscription", "Admin > Settings > General > GitLab agent for Kubernetes"},
			},
		},
		{
			name:        "Enterprise Edition with receptive agents switched off",
			settings:    mockgitlab.SeedSettings{Edition: "ee", Licence: "ultimate"},
			isReceptive: knownvalue.Bool(false),
			errors: map[string][]string{
				acctest.RootToken: {"Receptive agents are not available: the instance setting receptive_cluster_agents_enabled is off",
					"PUT /api/v4/application/settings?receptive_cluster_agents_enabled=true"},
				acctest.MaintainerToken: {"Receptive agents are not available: no Ultimate licence, or receptive_cluster_agents_enabled is off"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := acctest.NewPlaying(t, tc.settings)
			steps := []resource.TestStep{
				{
					// Agents and their data sources work on every edition.
					Config:            env.Config(agentsHCL),
					ConfigStateChecks: isReceptiveChecks(tc.isReceptive),
				},
				{
					Config: env.Config(agentsHCL),
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
				},
			}
			for token, want := range tc.errors {
				for _, use := range []string{"resource", "list data source", "data source"} {
					steps = append(steps, resource.TestStep{
						Config:      env.ProviderBlock(token) + urlConfigurationUsesHCL[use],
						ExpectError: acctest.ErrorRegexp(want...),
					})
				}
			}
			resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
			if n := env.Mock.CountRequests("POST", urlConfigsGlob); n != len(tc.errors) {
				t.Errorf("%d URL-configuration POSTs, want one per failed create", n)
			}
		})
	}
}

// TestAccGitLabEditions_receptiveAgentsGoAway takes receptive agents away from
// a GitLab with a URL configuration in state: the licence, the setting, the
// edition. Refresh and destroy fail and say why; the configuration stays in
// state (the last plan, with receptive agents back, is empty).
func TestAccGitLabEditions_receptiveAgentsGoAway(t *testing.T) {
	env := acctest.NewPlaying(t, mockgitlab.SeedSettings{Edition: "ee", Licence: "ultimate", ReceptiveAgents: true})
	agentID := mockAgent(t, env, "goes-away")
	config := urlConfigHCL(map[string]string{
		"project":  hclString(acctest.ProjectPath),
		"agent_id": hclInt(agentID),
		"url":      hclString(receptiveURL),
	})
	ultimate := env.Mock.Settings()
	set := func(s mockgitlab.SeedSettings) func() {
		return func() {
			if err := env.Mock.SetSettings(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	withSetting := func(on bool) mockgitlab.SeedSettings {
		s := ultimate
		s.ReceptiveAgents = on
		return s
	}
	premium := ultimate
	premium.Licence = "premium"
	ce := mockgitlab.SeedSettings{Edition: "ce"}
	stateRm := "terraform state rm gitlabagent_cluster_agent_url_configuration.<name>"
	kept := "state is left as it is"
	var configID int64
	emptyPlan := resource.TestStep{
		PreConfig: func() {
			// Still in GitLab, unchanged, and (the empty plan shows) still in state.
			if info, ok := env.Mock.URLConfiguration(agentID); !ok || info.ID != configID {
				t.Errorf("URL configuration %d: mock has %+v, %v", configID, info, ok)
			}
			set(ultimate)()
		},
		Config: env.Config(config),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(config),
				Check: func(s *terraform.State) error {
					var err error
					configID, err = acctest.Int64Attribute(s, urlConfigResource, "url_configuration_id")
					return err
				},
			},
			{
				PreConfig:   set(withSetting(false)),
				Config:      env.ProviderBlock(acctest.RootToken) + config,
				ExpectError: acctest.ErrorRegexp("the instance setting receptive_cluster_agents_enabled is off", kept, stateRm),
			},
			emptyPlan,
			{
				PreConfig:   set(premium),
				Config:      env.ProviderBlock(acctest.RootToken) + config,
				ExpectError: acctest.ErrorRegexp("this GitLab has no Ultimate licence", kept, stateRm),
			},
			emptyPlan,
			{
				PreConfig:   set(ce),
				Config:      env.Config(config),
				ExpectError: acctest.ErrorRegexp("the Community Edition has none", kept, stateRm),
			},
			emptyPlan,
			{
				// Destroying fails the same way, and keeps the configuration in state.
				PreConfig:   set(withSetting(false)),
				Config:      env.Config(config),
				Destroy:     true,
				ExpectError: acctest.ErrorRegexp("Receptive agents are not available", stateRm),
			},
			emptyPlan,
		},
	})
}

func TestAccGitLabEditions_gitLab17Base64Certificates(t *testing.T) {
	env := acctest.NewPlaying(t, mockgitlab.SeedSettings{
		Edition: "ee", Licence: "ultimate", ReceptiveAgents: true, CertificateEncoding: "base64", GitLabVersion: "17.6.2",
	})
	agentID := mockAgent(t, env, "base64")
	ca := acctest.NewCA(t, "kas-client-ca")
	client := ca.ClientCertificate(t, "gitlab-kas", acctest.ECDSAPKCS8)
	chain := client.CertPEM + ca.CertPEM
	config := urlConfigHCL(map[string]string{
		"project":     hclString(acctest.ProjectPath),
		"agent_id":    hclInt(agentID),
		"url":         hclString(receptiveURL),
		"ca_cert":     hclString(ca.CertPEM),
		"tls_host":    hclString("agent.internal"),
		"client_cert": hclString(chain),
		"client_key":  hclString(client.KeyPEM),
	})
	dataSources := config + fmt.Sprintf(`
data "gitlabagent_cluster_agent_url_configuration" "one" {
  project              = "root/test"
  agent_id             = %[1]d
  url_configuration_id = gitlabagent_cluster_agent_url_configuration.test.url_configuration_id
}

data "gitlabagent_cluster_agent_url_configurations" "all" {
  project    = "root/test"
  agent_id   = %[1]d
  depends_on = [gitlabagent_cluster_agent_url_configuration.test]
}

data "gitlabagent_cluster_agent" "agent" {
  project    = "root/test"
  agent_id   = %[1]d
  depends_on = [gitlabagent_cluster_agent_url_configuration.test]
}
`, agentID)
	pemChecks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_cert"), knownvalue.StringExact(chain)),
		statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("ca_cert"), knownvalue.StringExact(ca.CertPEM)),
		statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("auth_type"), knownvalue.StringExact("mtls")),
	}
	emptyPlan := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				// Raw PEM is refused (nothing created), Base64 accepted; state holds the PEM written.
				Config:            env.Config(config),
				ConfigStateChecks: pemChecks,
				Check: resource.ComposeAggregateTestCheckFunc(
					env.ExpectRequests("POST", urlConfigsGlob, 2),
					func(*terraform.State) error {
						info, ok := env.Mock.URLConfiguration(agentID)
						if !ok || info.ClientCert == nil || *info.ClientCert != chain || *info.CACert != ca.CertPEM ||
							*info.ClientKey != client.KeyPEM {
							return fmt.Errorf("GitLab does not hold the PEM written: %+v", info)
						}
						return nil
					},
				),
			},
			{
				// GitLab answers Base64; nothing to change.
				Config:           env.Config(config),
				ConfigPlanChecks: emptyPlan,
			},
			{
				ResourceName:            urlConfigResource,
				ImportState:             true,
				ImportStateIdFunc:       acctest.ImportIDFunc(urlConfigResource, "20", "agent_id", "url_configuration_id"),
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"client_key", "project"},
			},
			{
				// The data sources show PEM too.
				Config: env.Config(dataSources),
				ConfigStateChecks: append(pemChecks,
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent_url_configuration.one", tfjsonpath.New("client_cert"), knownvalue.StringExact(chain)),
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent_url_configuration.one", tfjsonpath.New("ca_cert"), knownvalue.StringExact(ca.CertPEM)),
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent_url_configurations.all",
						tfjsonpath.New("url_configurations").AtSliceIndex(0).AtMapKey("client_cert"), knownvalue.StringExact(chain)),
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.agent", tfjsonpath.New("is_receptive"), knownvalue.Bool(true)),
				),
			},
			{
				// GitLab upgraded to a version that answers raw PEM: still nothing to change.
				PreConfig: func() {
					s := env.Mock.Settings()
					s.CertificateEncoding, s.GitLabVersion = "pem", "19.0.0"
					if err := env.Mock.SetSettings(s); err != nil {
						t.Fatal(err)
					}
				},
				Config:           env.Config(dataSources),
				ConfigPlanChecks: emptyPlan,
			},
		},
	})
}
