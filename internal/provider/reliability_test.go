package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// agentAndTokenHCL is an agent with one token.
const agentAndTokenHCL = `
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "kept"
}

resource "gitlabagent_cluster_agent_token" "test" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.test.agent_id
  name     = "cluster"
}
`

// secretOf records the token's secret from state.
func secretOf(secret *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		v, err := acctest.Attribute(s, tokenResource, "token")
		if err != nil || v == "" {
			return fmt.Errorf("no secret in state: %w", err)
		}
		if *secret != "" && *secret != v {
			return fmt.Errorf("the secret in state changed")
		}
		*secret = v
		return nil
	}
}

// A refresh with a token that may not see the agent (a Reporter, a
// non-member) fails with a clear error and changes nothing: the agent and
// the token, secret included, stay in state and in GitLab.
func TestAccReliability_refreshWithoutReadAccessKeepsState(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	var secret string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: env.Config(agentAndTokenHCL), Check: secretOf(&secret)},
			{
				Config: env.ProviderBlock(acctest.ReporterToken) + agentAndTokenHCL,
				ExpectError: acctest.ErrorRegexp("Cannot tell whether", "still exists", "kept in state",
					"Developer"),
			},
			{
				Config:      env.ProviderBlock(acctest.OutsiderToken) + agentAndTokenHCL,
				ExpectError: regexp.MustCompile(`(?s)Project.*was not found, or the token's user cannot see it`),
			},
			{
				// The project made public: the non-member now sees the project
				// but not its agents, and GitLab's 404 for them is no deletion.
				PreConfig: func() {
					if err := env.Mock.SetProjectVisibility(acctest.ProjectID, "public"); err != nil {
						t.Fatal(err)
					}
				},
				Config: env.ProviderBlock(acctest.OutsiderToken) + agentAndTokenHCL,
				ExpectError: acctest.ErrorRegexp("Cannot tell whether", "still exists", "kept in state",
					"Developer"),
			},
			{
				// Back with the maintainer: nothing was lost, nothing to do.
				Config: env.Config(agentAndTokenHCL),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					secretOf(&secret),
					env.ExpectRequests(http.MethodDelete, "/api/v4/projects/*/cluster_agents/*", 0),
					env.ExpectRequests(http.MethodDelete, tokenPath, 0),
					env.ExpectRequests(http.MethodPost, "/api/v4/projects/*/cluster_agents", 1),
					env.ExpectRequests(http.MethodPost, tokensPath, 1),
				),
			},
		},
	})
}

// A stalled GitLab fails the refresh within request_timeout, with an error
// naming the request and the timeout.
func TestAccReliability_stalledRequestTimesOut(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	provider := fmt.Sprintf(`
provider "gitlabagent" {
  base_url        = %q
  token           = %q
  retries         = 1
  request_timeout = "1s"
}
`, env.BaseURL, acctest.MaintainerToken)
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: provider + agentConfig(acctest.ProjectPath, "stalled")},
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/projects/*/cluster_agents/*", DelayMS: 20000, Count: 5})
					started = time.Now()
				},
				Config:      provider + agentConfig(acctest.ProjectPath, "stalled"),
				ExpectError: acctest.ErrorRegexp("did not answer GET", "/cluster_agents/", "within 1s", "request_timeout"),
			},
			{
				PreConfig: func() {
					// The plan gave up after one attempt of about a second,
					// not after the 20 s stall.
					if d := time.Since(started); d > 15*time.Second {
						t.Errorf("the timed-out plan took %v", d)
					}
					env.Mock.ClearFaults()
				},
				Config: provider + agentConfig(acctest.ProjectPath, "stalled"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// Connections reset on GET and DELETE are retried: refresh and destroy
// succeed, and a DELETE whose answer was lost counts as done.
func TestAccReliability_droppedConnectionsAreRetried(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	// Go's HTTP client itself sends a GET again once when a reused connection
	// closes without an answer; retries = 3 covers the drops either way.
	cfg := strings.Replace(env.Config(agentConfig(acctest.ProjectPath, "dropped")), "retries  = 1", "retries  = 3", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy: func(*terraform.State) error {
			if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
				return fmt.Errorf("%d agents left after destroy", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/projects/*/cluster_agents/*", Drop: true, Count: 2})
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodDelete, Drop: true, AfterCommit: true, Count: 2})
				},
				Config:  cfg,
				Destroy: true,
			},
		},
	})
}

// An agent POST whose answer is lost, with the lookup failing too, ends in an
// error with the import command; so does "Name has already been taken", with
// the agent's ID.
func TestAccReliability_agentCreateOutcomeUnknownGivesImportCommand(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/v4/projects/*/cluster_agents", Drop: true, AfterCommit: true})
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/projects/*/cluster_agents", Status: 503, Count: 10})
				},
				Config: env.Config(agentConfig(acctest.ProjectPath, "lost")),
				ExpectError: acctest.ErrorRegexp(`Whether GitLab registered agent "lost" is unknown`,
					"terraform import <address of this gitlabagent_cluster_agent> 'root/test:<agent_id>'"),
			},
			{
				PreConfig: func() { env.Mock.ClearFaults() },
				Config:    env.Config(agentConfig(acctest.ProjectPath, "lost")),
				ExpectError: acctest.ErrorRegexp("Name has already been taken", `GitLab has agent "lost" as agent 1`,
					"terraform import <address of this gitlabagent_cluster_agent> 'root/test:1'", `id = "root/test:1"`),
			},
			{
				// Adopted as told: an empty plan follows.
				Config:             env.Config(agentConfig(acctest.ProjectPath, "lost")),
				ResourceName:       "gitlabagent_cluster_agent.test",
				ImportState:        true,
				ImportStateId:      "root/test:1",
				ImportStatePersist: true,
			},
			{
				Config: env.Config(agentConfig(acctest.ProjectPath, "lost")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// Two tokens for one agent created in one apply, one with the same name, one
// answer lost: the creates are serialized, so the token state holds is no
// candidate; nothing is revoked; once the lost create's token is revoked by
// hand, the next apply completes.
func TestAccReliability_twoTokenCreatesWithALostAnswer(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	hcl := fmt.Sprintf(`
resource "gitlabagent_cluster_agent_token" "a" {
  project  = "root/test"
  agent_id = %[1]d
  name     = "cluster"
}

resource "gitlabagent_cluster_agent_token" "b" {
  project  = "root/test"
  agent_id = %[1]d
  name     = "cluster"
}
`, agentID)
	heldByState := func(s *terraform.State) error {
		held := map[string]bool{}
		for _, name := range []string{"gitlabagent_cluster_agent_token.a", "gitlabagent_cluster_agent_token.b"} {
			if v, err := acctest.Attribute(s, name, "token_id"); err == nil {
				held[v] = true
			}
		}
		for _, tok := range env.Mock.ActiveTokens(agentID) {
			if !held[fmt.Sprint(tok.ID)] {
				return fmt.Errorf("active token %d is held by no resource", tok.ID)
			}
		}
		if len(env.Mock.ActiveTokens(agentID)) != len(held) {
			return fmt.Errorf("state holds %v, GitLab has %d active tokens", held, len(env.Mock.ActiveTokens(agentID)))
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: tokensPath, Status: 502, AfterCommit: true})
				},
				Config: env.Config(hcl),
				ExpectError: acctest.ErrorRegexp(`Whether GitLab created token "cluster" is unknown`,
					`token_id 1 ("cluster")`, "Nothing was revoked"),
			},
			{
				// Nothing was revoked: the token the other create returned is in
				// state, and the lost create's token 1, the only one listed, is
				// revoked by hand as the error says.
				PreConfig: func() {
					if n := env.Mock.CountRequests(http.MethodDelete, tokenPath); n != 0 {
						t.Errorf("%d revocations, want none", n)
					}
					if n := len(env.Mock.ActiveTokens(agentID)); n != 2 {
						t.Errorf("%d active tokens, want both creates' tokens", n)
					}
					if err := env.Mock.RevokeToken(1); err != nil {
						t.Fatal(err)
					}
				},
				Config:   env.Config(hcl),
				PlanOnly: true, ExpectNonEmptyPlan: true,
				Check: heldByState,
			},
			{
				Config: env.Config(hcl),
				Check: resource.ComposeAggregateTestCheckFunc(heldByState, func(*terraform.State) error {
					if n := len(env.Mock.ActiveTokens(agentID)); n != 2 {
						return fmt.Errorf("%d active tokens, want 2", n)
					}
					return nil
				}),
			},
		},
	})
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// advanceClock is a plan check that moves the clock between `terraform plan
// -out` and `terraform apply` of the saved plan.
type advanceClock struct {
	clock *fakeClock
	to    func() time.Time
}

func (a advanceClock) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, _ *plancheck.CheckPlanResponse) {
	a.clock.Set(a.to())
}

// A saved plan applies as planned whether or not the token fell due in
// between: rotation is decided from the time of the plan's refresh.
func TestAccReliability_savedPlanAcrossRotationBoundary(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	clock := &fakeClock{now: time.Now()}
	env.Mock.SetNow(clock.Now) // GitLab's created_at follows the same clock
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"gitlabagent": providerserver.NewProtocol6WithError(provider.NewWithClock("test", clock.Now)()),
	}
	cfg := env.Config(tokenConfig{agentID: agentID, rotateAfter: "1h", outputOnly: true}.hcl())
	var created string
	createdAt := func() time.Time {
		t, err := time.Parse(time.RFC3339Nano, created)
		if err != nil {
			panic(err)
		}
		return t
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) (err error) {
					created, err = acctest.Attribute(s, tokenResource, "created_at")
					return err
				},
			},
			{
				// Planned one minute before the token falls due, applied
				// two hours later: still nothing to do.
				PreConfig: func() { clock.Set(createdAt().Add(59 * time.Minute)) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionNoop),
						advanceClock{clock, func() time.Time { return createdAt().Add(2 * time.Hour) }},
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("created_at"), knownvalue.StringFunc(func(v string) error {
						if v != created {
							return fmt.Errorf("the token was replaced")
						}
						return nil
					})),
				},
				// The refresh after apply reads the token at the advanced
				// time, so the next plan rotates it.
				ExpectNonEmptyPlan: true,
			},
			{
				// Planned when due (replace), applied later: the same plan.
				PreConfig: func() { clock.Set(createdAt().Add(3 * time.Hour)) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionDestroyBeforeCreate),
						advanceClock{clock, func() time.Time { return createdAt().Add(5 * time.Hour) }},
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("created_at"), knownvalue.StringFunc(func(v string) error {
						if v == created {
							return fmt.Errorf("the due token was not replaced")
						}
						return nil
					})),
				},
			},
		},
	})
}

// Bad inputs that GitLab would refuse (or take wrongly) fail at plan time,
// naming the attribute, with no request; valid inputs near them pass.
func TestAccReliability_badInputsFailAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	env.Mock.ResetRequests()
	urlConfig := func(url, tlsHost string) string {
		hcl := fmt.Sprintf(`
resource "gitlabagent_cluster_agent_url_configuration" "test" {
  project  = "root/test"
  agent_id = %d
  url      = %q
`, agentID, url)
		if tlsHost != "" {
			hcl += fmt.Sprintf("  tls_host = %q\n", tlsHost)
		}
		return hcl + "}\n"
	}
	steps := []resource.TestStep{
		{
			Config:      env.Config(tokenConfig{agentID: agentID, name: "   ", outputOnly: true}.hcl()),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("name", "must contain a character other than white space"),
		},
		{
			Config:      env.Config(tokenConfig{agentID: agentID, name: strings.Repeat("é", 256), outputOnly: true}.hcl()),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("name", "UTF-8 character count must be between 1 and 255, got: 256"),
		},
		{
			Config:      env.Config(urlConfig("GRPCS://agent.example.com:4242", "")),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("url", "in capitals", `"grpcs://agent.example.com:4242"`),
		},
		{
			Config:      env.Config(urlConfig("grpcs://agent.example.com:4242", "bücher.example")),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("tls_host", `"bücher.example" contains 'ü', which is not ASCII`, "punycode"),
		},
		{
			Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url = "gitlab.example.com/api/v4"
  token    = %q
}
`, acctest.MaintainerToken) + agentConfig(acctest.ProjectPath, "x"),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("base_url", "is not a GitLab URL", "https://gitlab.example.com"),
		},
		{
			Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url = %q
  token    = "glpat-mock maintainer"
}
`, env.BaseURL) + agentConfig(acctest.ProjectPath, "x"),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("token", "white space or control characters"),
		},
		{
			PreConfig: func() {
				if reqs := env.Mock.Requests(); len(reqs) != 0 {
					t.Errorf("bad inputs reached GitLab: %v", reqs)
				}
			},
			// A 200-character name of é is 400 bytes but valid, and a token
			// read from a file with its trailing newline works.
			Config: fmt.Sprintf(`
provider "gitlabagent" {
  base_url = %q
  token    = "%s\n"
  retries  = 1
}
`, env.BaseURL, acctest.MaintainerToken) + tokenConfig{agentID: agentID, name: strings.Repeat("é", 200), outputOnly: true}.hcl(),
			Check: resource.TestCheckResourceAttr(tokenResource, "name", strings.Repeat("é", 200)),
		},
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
}

// A base_url from GITLAB_BASE_URL that is not a URL is reported on base_url,
// saying where the value came from. (Sets process-wide environment: not
// parallel.)
func TestAccReliability_baseURLFromEnvironment(t *testing.T) {
	env := acctest.New(t)
	t.Setenv("GITLAB_BASE_URL", "gitlab.example.com")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "gitlabagent" {
  token = %q
}
`, acctest.MaintainerToken) + agentConfig(acctest.ProjectPath, "x"),
			ExpectError: acctest.ErrorRegexp("Invalid GitLab URL", "GITLAB_BASE_URL", "is not a GitLab URL", "`base_url`"),
		}},
	})
	if reqs := env.Mock.Requests(); len(reqs) != 0 {
		t.Errorf("requests were made: %v", reqs)
	}
}

// A resource's `timeouts` bound a whole operation: a read stalled past
// timeouts.read fails within it, whatever request_timeout allows.
func TestAccReliability_resourceTimeouts(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	hcl := env.Config(`
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "slow"
  timeouts {
    read = "2s"
  }
}
`)
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: hcl},
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Pattern: "/api/v4/projects/*/cluster_agents/*", DelayMS: 30000, Count: 5})
					started = time.Now()
				},
				Config:      hcl,
				ExpectError: acctest.ErrorRegexp("ran out of time", "`timeouts`"),
			},
			{
				PreConfig: func() {
					if d := time.Since(started); d > 20*time.Second {
						t.Errorf("the read with timeouts.read = 2s took %v", d)
					}
					env.Mock.ClearFaults()
				},
				Config: hcl,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}
