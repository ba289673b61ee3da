package provider_test

import (
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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

const (
	tokenResource  = "gitlabagent_cluster_agent_token.test"
	tokenType      = "gitlabagent_cluster_agent_token"
	tokensPath     = "/api/v4/projects/*/cluster_agents/*/tokens"
	tokenPath      = tokensPath + "/*"
	consumerName   = "terraform_data.consumer"
	tokenOutputKey = "token"
)

// tokenFormat is GitLab's agent token: "glagent-" and 50 URL-safe characters.
var tokenFormat = regexp.MustCompile(`^glagent-[A-Za-z0-9_-]{50}$`)

// tokenConfig renders a token resource, a terraform_data that replace_triggered_by
// watches, and two dependants of the secret: a terraform_data and an output.
type tokenConfig struct {
	project           string
	agentID           int64
	name              string
	description       string
	rotateAfter       string
	triggers          string // HCL map, e.g. `{ generation = "1" }`
	replaceTrigger    string // input of terraform_data.rotation
	createBeforeDestr bool
	// outputOnly leaves out terraform_data.consumer: Terraform itself logs the
	// values of terraform_data's dynamic attributes (UpgradeResourceState:
	// ignoring dynamic block) at DEBUG, secrets included.
	outputOnly bool
}

func (c tokenConfig) hcl() string {
	var b strings.Builder
	project := c.project
	if project == "" {
		project = acctest.ProjectPath
	}
	name := c.name
	if name == "" {
		name = "cluster"
	}
	replaceTrigger := c.replaceTrigger
	if replaceTrigger == "" {
		replaceTrigger = "v1"
	}
	fmt.Fprintf(&b, `
resource "terraform_data" "rotation" {
  input = %q
}

resource "gitlabagent_cluster_agent_token" "test" {
  project  = %q
  agent_id = %d
  name     = %q
`, replaceTrigger, project, c.agentID, name)
	if c.description != "" {
		fmt.Fprintf(&b, "  description = %q\n", c.description)
	}
	if c.rotateAfter != "" {
		fmt.Fprintf(&b, "  rotate_after = %q\n", c.rotateAfter)
	}
	if c.triggers != "" {
		fmt.Fprintf(&b, "  rotation_triggers = %s\n", c.triggers)
	}
	fmt.Fprintf(&b, `
  lifecycle {
    create_before_destroy = %t
    replace_triggered_by  = [terraform_data.rotation]
  }
}

output "token" {
  value     = gitlabagent_cluster_agent_token.test.token
  sensitive = true
}
`, c.createBeforeDestr)
	if !c.outputOnly {
		b.WriteString(`
resource "terraform_data" "consumer" {
  input = gitlabagent_cluster_agent_token.test.token
}
`)
	}
	return b.String()
}

// wrapped matches an error Terraform may have wrapped over lines: the parts
// are regular expressions, in order, in which every space matches any run of
// whitespace.
func wrapped(parts ...string) *regexp.Regexp {
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

// newTestAgent registers an agent out of band.
func newTestAgent(t *testing.T, env *acctest.Env) int64 {
	t.Helper()
	a, err := env.Mock.CreateAgent(acctest.ProjectID, "production", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// checkSecretDelivered compares, without ever printing them, the secret in
// state with the one GitLab issued for the token in state, and with what the
// dependants (terraform_data.consumer, output "token") received.
func checkSecretDelivered(env *acctest.Env) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := acctest.Int64Attribute(s, tokenResource, "token_id")
		if err != nil {
			return err
		}
		info, ok := env.Mock.Token(id)
		if !ok {
			return fmt.Errorf("token %d is not in the mock GitLab", id)
		}
		if info.Status != "active" {
			return fmt.Errorf("token %d is %s in the mock GitLab, want active", id, info.Status)
		}
		secret, err := acctest.Attribute(s, tokenResource, "token")
		if err != nil {
			return err
		}
		if !tokenFormat.MatchString(secret) {
			return fmt.Errorf("%s.token is not of the form glagent-<50 URL-safe characters> (value not shown)", tokenResource)
		}
		if secret != info.Token {
			return fmt.Errorf("%s.token differs from the secret GitLab issued for token %d (values not shown)", tokenResource, id)
		}
		if out, ok := s.RootModule().Outputs[tokenOutputKey]; !ok || out.Value != info.Token {
			return fmt.Errorf("output %q did not receive the secret of token %d (values not shown)", tokenOutputKey, id)
		}
		if _, ok := s.RootModule().Resources[consumerName]; !ok {
			return nil // configuration without it
		}
		if got, err := acctest.Attribute(s, consumerName, "output"); err != nil || got != info.Token {
			return fmt.Errorf("%s did not receive the secret of token %d (values not shown)", consumerName, id)
		}
		return nil
	}
}

// rotation follows one token through replacements.
type rotation struct {
	env     *acctest.Env
	agentID int64
	current int64
	initial int // active tokens when the step began
}

// begin runs before a step: it clears the request log and counts active tokens.
func (r *rotation) begin() {
	r.env.Mock.ResetRequests()
	r.initial = len(r.env.Mock.ActiveTokens(r.agentID))
}

// record remembers the token in state.
func (r *rotation) record(s *terraform.State) (err error) {
	r.current, err = acctest.Int64Attribute(s, tokenResource, "token_id")
	return err
}

// tokenWrites summarises the successful token writes in the request log, in
// order: "+" for a create, "-" for a revoke.
func tokenWrites(env *acctest.Env) string {
	var seq strings.Builder
	for _, req := range env.Mock.Requests() {
		if ok, _ := path.Match(tokensPath, req.Path); ok && req.Method == http.MethodPost && req.Status == http.StatusCreated {
			seq.WriteString("+")
		}
		if ok, _ := path.Match(tokenPath, req.Path); ok && req.Method == http.MethodDelete && req.Status == http.StatusNoContent {
			seq.WriteString("-")
		}
	}
	return seq.String()
}

// replaced checks a rotation: a new token in state whose secret reached the
// dependants, the old one revoked, the writes in the wanted order ("-+" for
// destroy-then-create, "+-" for create_before_destroy) and never more active
// tokens than the order implies (at most two).
func (r *rotation) replaced(order string) resource.TestCheckFunc {
	return resource.ComposeAggregateTestCheckFunc(
		checkSecretDelivered(r.env),
		func(s *terraform.State) error {
			old := r.current
			id, err := acctest.Int64Attribute(s, tokenResource, "token_id")
			if err != nil {
				return err
			}
			if id == old {
				return fmt.Errorf("token_id is still %d: the token was not replaced", id)
			}
			if info, _ := r.env.Mock.Token(old); info.Status != "revoked" {
				return fmt.Errorf("old token %d is %q in the mock GitLab, want revoked", old, info.Status)
			}
			if got := tokenWrites(r.env); got != order {
				return fmt.Errorf("token writes were %q, want %q (+ create, - revoke); log: %v", got, order, r.env.Mock.Requests())
			}
			active, peak := r.initial, r.initial
			for _, w := range order {
				if w == '+' {
					active++
				} else {
					active--
				}
				peak = max(peak, active)
			}
			if peak > 2 {
				return fmt.Errorf("%d tokens were active at once", peak)
			}
			if n := len(r.env.Mock.ActiveTokens(r.agentID)); n != active {
				return fmt.Errorf("%d active tokens after the rotation, want %d", n, active)
			}
			r.current = id
			return nil
		},
	)
}

func TestAccClusterAgentToken_lifecycle(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	cfg := tokenConfig{agentID: agentID, description: "agentk in eu-1"}
	var tokenID int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(cfg.hcl()),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionCreate),
						plancheck.ExpectSensitiveValue(tokenResource, tfjsonpath.New("token")),
						plancheck.ExpectUnknownValue(tokenResource, tfjsonpath.New("token")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("project"), knownvalue.StringExact(acctest.ProjectPath)),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("agent_id"), knownvalue.Int64Exact(agentID)),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("name"), knownvalue.StringExact("cluster")),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("description"), knownvalue.StringExact("agentk in eu-1")),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("created_by_user_id"), knownvalue.Int64Exact(acctest.MaintainerUserID)),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("last_used_at"), knownvalue.Null()),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("rotate_after"), knownvalue.Null()),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("rotation_triggers"), knownvalue.Null()),
					statecheck.ExpectKnownValue(tokenResource, tfjsonpath.New("id"),
						knownvalue.StringRegexp(regexp.MustCompile(fmt.Sprintf(`^20:%d:\d+$`, agentID)))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSecretDelivered(env),
					func(s *terraform.State) (err error) {
						tokenID, err = acctest.Int64Attribute(s, tokenResource, "token_id")
						if err != nil {
							return err
						}
						info, _ := env.Mock.Token(tokenID)
						return resource.TestCheckResourceAttr(tokenResource, "created_at", acctest.Timestamp(info.CreatedAt))(s)
					},
					// One limit check, one POST, no read-back of the token.
					env.ExpectRequests("POST", tokensPath, 1),
					// One POST and nothing else: no list of the agent's tokens first.
					env.ExpectRequests("GET", tokensPath, 0),
				),
			},
			{
				// Refresh reads the token (now used by an agent) and keeps the secret byte for byte.
				PreConfig: func() {
					if err := env.Mock.MarkTokenUsed(tokenID, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)); err != nil {
						t.Fatal(err)
					}
					env.Mock.ResetRequests()
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSecretDelivered(env),
					resource.TestCheckResourceAttr(tokenResource, "last_used_at", "2025-06-01T12:00:00.000Z"),
					// Read is one GET, and nothing else.
					env.ExpectRequests("GET", tokenPath, 1),
					func(*terraform.State) error {
						if n := len(env.Mock.Requests()); n != 1 {
							return fmt.Errorf("refresh made %d requests, want 1: %v", n, env.Mock.Requests())
						}
						return nil
					},
				),
			},
			{
				// Nothing to do, and the secret is still sensitive in the plan.
				Config: env.Config(cfg.hcl()),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectEmptyPlan(),
						plancheck.ExpectSensitiveValue(tokenResource, tfjsonpath.New("token")),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(checkSecretDelivered(env), env.ExpectRequests("POST", tokensPath, 0)),
			},
			{
				// Import: every attribute but the secret, which GitLab cannot return.
				ResourceName:            tokenResource,
				ImportState:             true,
				ImportStateIdFunc:       acctest.ImportIDFunc(tokenResource, acctest.ProjectPath, "agent_id", "token_id"),
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"token"},
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if v, ok := states[0].Attributes["token"]; ok && v != "" {
						return fmt.Errorf("the imported token has a secret; GitLab cannot return one")
					}
					return nil
				},
			},
			{
				ResourceName:  tokenResource,
				ImportState:   true,
				ImportStateId: "root/test:1",
				ExpectError:   regexp.MustCompile(`(?s)not of the form <project>:<agent_id>:<token_id>`),
			},
			{
				// rotate_after is provider-side: setting it updates state in place.
				Config: env.Config(tokenConfig{agentID: agentID, description: "agentk in eu-1", rotateAfter: "720h"}.hcl()),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSecretDelivered(env),
					resource.TestCheckResourceAttr(tokenResource, "rotate_after", "720h"),
					env.ExpectRequests("POST", tokensPath, 0),
					env.ExpectRequests("DELETE", tokenPath, 0),
				),
			},
			{
				// The same project written as its numeric ID: in place, no request to GitLab but reads.
				Config: env.Config(tokenConfig{project: "20", agentID: agentID, description: "agentk in eu-1", rotateAfter: "720h"}.hcl()),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSecretDelivered(env),
					resource.TestCheckResourceAttr(tokenResource, "project", "20"),
					env.ExpectRequests("POST", tokensPath, 0),
					env.ExpectRequests("DELETE", tokenPath, 0),
				),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if info, _ := env.Mock.Token(tokenID); info.Status != "revoked" {
				return fmt.Errorf("token %d is %q after destroy, want revoked", tokenID, info.Status)
			}
			return nil
		},
	})
}

func TestAccClusterAgentToken_rotation(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	r := &rotation{env: env, agentID: agentID}
	step := func(cfg tokenConfig, taint bool, order string) resource.TestStep {
		cfg.agentID = agentID
		action := plancheck.ResourceActionDestroyBeforeCreate
		if cfg.createBeforeDestr {
			action = plancheck.ResourceActionCreateBeforeDestroy
		}
		s := resource.TestStep{
			PreConfig: r.begin,
			Config:    env.Config(cfg.hcl()),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tokenResource, action),
					plancheck.ExpectSensitiveValue(tokenResource, tfjsonpath.New("token")),
				},
			},
			Check: r.replaced(order),
		}
		if taint {
			s.Taint = []string{tokenResource}
		}
		return s
	}
	v1 := tokenConfig{triggers: `{ generation = "1" }`}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: env.Config(tokenConfig{agentID: agentID, triggers: v1.triggers}.hcl()), Check: resource.ComposeAggregateTestCheckFunc(checkSecretDelivered(env), r.record)},
			// Default replacement: the old token is revoked before the new one is created.
			step(v1, true, "-+"), // terraform apply -replace
			step(tokenConfig{triggers: `{ generation = "2" }`}, false, "-+"),                       // rotation_triggers
			step(tokenConfig{triggers: `{ generation = "2" }`, replaceTrigger: "v2"}, false, "-+"), // replace_triggered_by
			// create_before_destroy: the new token exists before the old one is revoked.
			step(tokenConfig{triggers: `{ generation = "3" }`, replaceTrigger: "v2", createBeforeDestr: true}, false, "+-"),
			step(tokenConfig{triggers: `{ generation = "3" }`, replaceTrigger: "v2", createBeforeDestr: true}, true, "+-"),
			step(tokenConfig{triggers: `{ generation = "3" }`, replaceTrigger: "v3", createBeforeDestr: true}, false, "+-"),
			{
				// Settled: nothing left to replace.
				Config: env.Config(tokenConfig{agentID: agentID, replaceTrigger: "v3", createBeforeDestr: true, triggers: `{ generation = "3" }`}.hcl()),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func TestAccClusterAgentToken_emptyTriggersAreUnset(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: env.Config(tokenConfig{agentID: agentID}.hcl())},
			{
				Config: env.Config(tokenConfig{agentID: agentID, triggers: `{}`}.hcl()),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionUpdate)},
				},
				Check: env.ExpectRequests("DELETE", tokenPath, 0),
			},
		},
	})
}

func TestAccClusterAgentToken_limitListsTheBlockingTokens(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	first, err := env.Mock.CreateToken(agentID, "cluster-eu", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := env.Mock.CreateToken(agentID, "cluster-us", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Mock.MarkTokenUsed(first.ID, time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(tokenConfig{agentID: agentID}.hcl()),
			ExpectError: wrapped(
				fmt.Sprintf(`Agent %d already has 2 active tokens`, agentID),
				fmt.Sprintf(`token_id %d \("cluster-eu"\), created \S+ by user 2, last used 2025-02-03T04:05:06Z`, first.ID),
				fmt.Sprintf(`token_id %d \("cluster-us"\), created \S+ by user 2, never used`, second.ID),
				`Nothing was created or revoked`, `Operate > Kubernetes clusters`,
				`gitlabagent_cluster_agent_token`, `create_before_destroy`),
		}},
	})
	// GitLab enforces the limit: one POST, refused, and the tokens listed
	// only then, to name them.
	if n := env.Mock.CountRequests("POST", tokensPath); n != 1 {
		t.Errorf("saw %d POSTs, want the one GitLab refused", n)
	}
	if n := len(env.Mock.ActiveTokens(agentID)); n != 2 {
		t.Errorf("%d active tokens, want the 2 pre-existing ones", n)
	}
}

func TestAccClusterAgentToken_revokedOutOfBandIsRecreated(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	r := &rotation{env: env, agentID: agentID}
	cfg := env.Config(tokenConfig{agentID: agentID}.hcl())
	recreated := func(revoke func()) resource.TestStep {
		return resource.TestStep{
			PreConfig: func() {
				revoke()
				r.begin()
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionCreate)},
			},
			// Revoked already: nothing to revoke, one create.
			Check: r.replaced("+"),
		}
	}
	revoke := func() {
		if err := env.Mock.RevokeToken(r.current); err != nil {
			t.Fatal(err)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: cfg, Check: r.record},
			recreated(revoke), // GET answers 404
			recreated(func() { // GitLab < 16.0: GET answers 200 with status "revoked"
				env.Mock.SetLegacyRevokedTokenGet(true)
				revoke()
			}),
		},
	})
}

func TestAccClusterAgentToken_rotateAfter(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	r := &rotation{env: env, agentID: agentID}
	cfg := env.Config(tokenConfig{agentID: agentID, rotateAfter: "720h", createBeforeDestr: true}.hcl())
	var invalid []resource.TestStep
	for value, want := range map[string]string{
		"30d":  `"30d" is not a duration.*"720h"`,
		"0s":   `"0s" is shorter than 1m0s`,
		"-90m": `"-90m" is shorter than 1m0s`,
		"59s":  `"59s" is shorter than 1m0s`,
	} {
		invalid = append(invalid, resource.TestStep{
			Config:      env.Config(tokenConfig{agentID: agentID, rotateAfter: value}.hcl()),
			PlanOnly:    true,
			ExpectError: wrapped(`Invalid duration`, `rotate_after`, want),
		})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: append(invalid,
			resource.TestStep{
				PreConfig: func() {
					if reqs := env.Mock.Requests(); len(reqs) != 0 {
						t.Errorf("invalid rotate_after values reached GitLab: %v", reqs)
					}
				},
				Config: cfg,
				Check:  r.record,
			},
			resource.TestStep{
				// Not due yet.
				PreConfig: func() {
					if err := env.Mock.AgeToken(r.current, 719*time.Hour); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			resource.TestStep{
				// Due: replaced, create before destroy.
				PreConfig: func() {
					if err := env.Mock.AgeToken(r.current, 2*time.Hour); err != nil {
						t.Fatal(err)
					}
					r.begin()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tokenResource, plancheck.ResourceActionCreateBeforeDestroy),
						plancheck.ExpectUnknownValue(tokenResource, tfjsonpath.New("created_at")),
					},
				},
				Check: r.replaced("+-"),
			},
			resource.TestStep{
				// The new token is not due.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		),
	})
}

// A create whose answer is lost revokes nothing: the token GitLab created is
// listed with how to revoke or adopt it; adopted and rotated, state and
// GitLab agree.
func TestAccClusterAgentToken_lostCreateAnswerRevokesNothing(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	cfg := env.Config(tokenConfig{agentID: agentID, outputOnly: true}.hcl())
	importID := fmt.Sprintf("root/test:%d:1", agentID)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: tokensPath, Status: 502, AfterCommit: true})
				},
				Config: cfg,
				ExpectError: acctest.ErrorRegexp(`GitLab answered 502`, `Whether GitLab created token "cluster" is unknown`,
					`token_id 1 ("cluster"), created`, "by user 2", "Nothing was revoked",
					"revoke it there", "terraform import <address of this gitlabagent_cluster_agent_token> '"+importID+"'",
					"terraform apply -replace=<address of this gitlabagent_cluster_agent_token>"),
			},
			{
				PreConfig: func() {
					if n := env.Mock.CountRequests("DELETE", tokenPath); n != 0 {
						t.Errorf("saw %d revocations, want none", n)
					}
					if info, _ := env.Mock.Token(1); info.Status != "active" {
						t.Errorf("token 1 is %s, want it left active for the user to decide", info.Status)
					}
				},
				Config:             cfg,
				ResourceName:       tokenResource,
				ImportState:        true,
				ImportStateId:      importID,
				ImportStatePersist: true,
			},
			{
				// Rotated at once: its secret was lost with the answer.
				Config: cfg,
				Taint:  []string{tokenResource},
				Check: func(s *terraform.State) error {
					id, err := acctest.Int64Attribute(s, tokenResource, "token_id")
					active := env.Mock.ActiveTokens(agentID)
					if err != nil || len(active) != 1 || active[0].ID != id || id == 1 {
						return fmt.Errorf("state's token %d (%w), GitLab's active tokens %+v", id, err, active)
					}
					if v, _ := acctest.Attribute(s, tokenResource, "token"); v != active[0].Token {
						return fmt.Errorf("the secret in state is not the new token's")
					}
					return nil
				},
			},
		},
	})
	if n := env.Mock.CountRequests("POST", tokensPath); n != 2 {
		t.Errorf("saw %d POSTs; want the lost create and the rotation's, never a repeat", n)
	}
}

// Two runs create a token of the same name for one agent. Run A's create gets
// a 500 that created nothing while run B creates its token: A lists B's token
// as a candidate and revokes nothing, so B's token, which B's state holds,
// stays active. Run again, A creates its own.
func TestAccClusterAgentToken_lostCreateNeverRevokesAnotherRunsToken(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	cfg := env.Config(tokenConfig{agentID: agentID, outputOnly: true}.hcl())
	var runB mockgitlab.TokenInfo
	created := make(chan mockgitlab.TokenInfo, 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.Mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: tokensPath, Status: 500, DelayMS: 1500})
					go func() {
						// Run B creates its token while A's POST is under way.
						for env.Mock.CountRequests("POST", tokensPath) == 0 {
							time.Sleep(20 * time.Millisecond)
						}
						tok, err := env.Mock.CreateToken(agentID, "cluster", "", acctest.MaintainerUserID)
						if err != nil {
							t.Error(err)
						}
						created <- tok
					}()
				},
				Config: cfg,
				ExpectError: acctest.ErrorRegexp(`GitLab answered 500`, `Whether GitLab created token "cluster" is unknown`,
					`token_id 1 ("cluster")`, "Nothing was revoked", "terraform import"),
			},
			{
				PreConfig: func() {
					runB = <-created
					if info, _ := env.Mock.Token(runB.ID); runB.ID == 0 || info.Status != "active" {
						t.Errorf("run B's token %d is %q, want active", runB.ID, info.Status)
					}
				},
				Config: cfg,
				Check: func(s *terraform.State) error {
					id, err := acctest.Int64Attribute(s, tokenResource, "token_id")
					if err != nil || id == runB.ID {
						return fmt.Errorf("state holds token %d (%w), run B's is %d", id, err, runB.ID)
					}
					if n := len(env.Mock.ActiveTokens(agentID)); n != 2 {
						return fmt.Errorf("%d active tokens, want run B's and this run's", n)
					}
					if n := env.Mock.CountRequests("DELETE", tokenPath); n != 0 {
						return fmt.Errorf("saw %d revocations, want none", n)
					}
					return nil
				},
			},
		},
	})
}

func TestAccClusterAgentToken_permissionAndNotFoundErrors(t *testing.T) {
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.ProviderBlock(acctest.DeveloperToken) + tokenConfig{agentID: agentID}.hcl(),
				ExpectError: wrapped(`Failed to create token "cluster"`, `not allowed to create token "cluster" \(403 Forbidden\)`,
					`Maintainer role`),
			},
			{
				Config: env.Config(tokenConfig{agentID: 999999}.hcl()),
				ExpectError: wrapped(`Failed to create token "cluster"`, `Agent 999999 of project "root/test" does not exist`,
					`404 Not found`),
			},
		},
	})
	// No request before the POST: GitLab's answer to it tells.
	if n := env.Mock.CountRequests("POST", tokensPath); n != 2 {
		t.Errorf("saw %d POSTs, want the Developer's refused one and the one for the missing agent", n)
	}
	if n := env.Mock.CountRequests("GET", tokensPath); n != 0 {
		t.Errorf("saw %d token lists, want none", n)
	}
}

// TestAccClusterAgentToken_secretNeverLogged runs a whole lifecycle with
// Terraform and the provider logging at TRACE, then searches the log for the
// secret. It sets environment variables, so it must not run in parallel.
func TestAccClusterAgentToken_secretNeverLogged(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	cfg := env.Config(tokenConfig{agentID: agentID, outputOnly: true}.hcl())
	var tokenID int64
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(checkSecretDelivered(env), func(s *terraform.State) (err error) {
					tokenID, err = acctest.Int64Attribute(s, tokenResource, "token_id")
					return err
				}),
			},
			{RefreshState: true, Check: checkSecretDelivered(env)},
			{
				Config: cfg,
				Taint:  []string{tokenResource},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectSensitiveValue(tokenResource, tfjsonpath.New("token"))},
				},
				Check: checkSecretDelivered(env),
			},
		},
	})
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no TRACE log written: %v", err)
	}
	log := string(data)
	if len(log) == 0 || !strings.Contains(log, "GitLab API request") || !strings.Contains(log, "/cluster_agents/") {
		t.Fatalf("the TRACE log (%d bytes) has no GitLab request line: the test would prove nothing", len(log))
	}
	// The create answers were logged, with the secret redacted.
	if !strings.Contains(log, "GitLab API response body") || !strings.Contains(log, "[REDACTED]") {
		t.Errorf("the TRACE log has no redacted response body: the test would prove nothing")
	}
	secrets := 0
	for id := tokenID; ; id++ {
		info, ok := env.Mock.Token(id)
		if !ok {
			break
		}
		secrets++
		if strings.Contains(log, info.Token) {
			t.Errorf("the TRACE log contains the secret of token %d", id)
		}
		// Not even a recognisable part of it.
		if strings.Contains(log, info.Token[8:30]) {
			t.Errorf("the TRACE log contains part of the secret of token %d", id)
		}
	}
	if secrets < 2 {
		t.Errorf("expected the original and the replacement token, found %d", secrets)
	}
}

// TestAccClusterAgentToken_warnings drives the provider through the plugin
// protocol to see the warnings Terraform prints: import, revoked token,
// rotation due.
func TestAccClusterAgentToken_warnings(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	agentID := newTestAgent(t, env)
	p := env.Protocol(t, acctest.MaintainerToken)
	tok, err := env.Mock.CreateToken(agentID, "cluster", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}

	// Import: no secret, a warning saying how to get one.
	imported, private, diags := p.Import(tokenType, fmt.Sprintf("root/test:%d:%d", agentID, tok.ID))
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	warn := acctest.Warnings(diags)
	for _, want := range []string{"Token secret not imported", "cannot be read back", "terraform apply -replace=", "must be given the new one"} {
		if !strings.Contains(warn, want) {
			t.Errorf("import warning lacks %q: %s", want, warn)
		}
	}
	state, private, diags := p.Read(tokenType, imported, private)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	if !acctest.Attr(state, "token").IsNull() {
		t.Error("the imported token has a secret")
	}
	if got := acctest.Attr(state, "id"); !got.Equal(tftypes.NewValue(tftypes.String, fmt.Sprintf("20:%d:%d", agentID, tok.ID))) {
		t.Errorf("imported id = %v", got)
	}

	config := func(rotateAfter string, triggers map[string]string) map[string]tftypes.Value {
		c := map[string]tftypes.Value{
			"project":  tftypes.NewValue(tftypes.String, "root/test"),
			"agent_id": tftypes.NewValue(tftypes.Number, big.NewFloat(float64(agentID))),
			"name":     tftypes.NewValue(tftypes.String, "cluster"),
		}
		if rotateAfter != "" {
			c["rotate_after"] = tftypes.NewValue(tftypes.String, rotateAfter)
		}
		if triggers != nil {
			m := map[string]tftypes.Value{}
			for k, v := range triggers {
				m[k] = tftypes.NewValue(tftypes.String, v)
			}
			c["rotation_triggers"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, m)
		}
		return c
	}
	requiresReplace := func(paths []*tftypes.AttributePath) string {
		var names []string
		for _, p := range paths {
			names = append(names, p.String())
		}
		return strings.Join(names, ",")
	}

	// Rotation triggers given after an import are adopted, not a replacement;
	// on a token that was created with none, they replace it.
	plan := p.Plan(tokenType, state, private, config("", map[string]string{"generation": "1"}))
	if got := requiresReplace(plan.RequiresReplace); got != "" {
		t.Errorf("first rotation_triggers after import require replacing %s", got)
	}
	if plan = p.Plan(tokenType, state, nil, config("", map[string]string{"generation": "1"})); requiresReplace(plan.RequiresReplace) == "" {
		t.Error("new rotation_triggers on a created token do not replace it")
	}
	// The refresh of the first apply after the import still adopts them; once
	// that apply has run (the next refresh), the token is treated as any other.
	refreshed, refreshedPrivate, diags := p.Read(tokenType, state, private)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	if plan = p.Plan(tokenType, refreshed, refreshedPrivate, config("", map[string]string{"generation": "1"})); requiresReplace(plan.RequiresReplace) != "" {
		t.Errorf("first apply after import: rotation_triggers require replacing %s", requiresReplace(plan.RequiresReplace))
	}
	later, laterPrivate, diags := p.Read(tokenType, refreshed, refreshedPrivate)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	if plan = p.Plan(tokenType, later, laterPrivate, config("", map[string]string{"generation": "1"})); requiresReplace(plan.RequiresReplace) == "" {
		t.Error("after the first apply following an import, new rotation_triggers do not replace the token")
	}

	// rotate_after not due: no replacement, no warning.
	plan = p.Plan(tokenType, state, private, config("24h", nil))
	if got := requiresReplace(plan.RequiresReplace); got != "" || acctest.Warnings(plan.Diagnostics) != "" {
		t.Errorf("a fresh token is planned for replacement (%s) or warned about: %s", got, acctest.Warnings(plan.Diagnostics))
	}
	// Due: replacement through created_at, and a warning saying why.
	if err := env.Mock.AgeToken(tok.ID, 25*time.Hour); err != nil {
		t.Fatal(err)
	}
	if state, private, diags = p.Read(tokenType, state, private); acctest.Errors(diags) != "" {
		t.Fatal(acctest.Errors(diags))
	}
	plan = p.Plan(tokenType, state, private, config("24h", nil))
	if errs := acctest.Errors(plan.Diagnostics); errs != "" {
		t.Fatal(errs)
	}
	if got := requiresReplace(plan.RequiresReplace); !strings.Contains(got, "created_at") {
		t.Errorf("an aged token is not planned for replacement (requires replace: %q)", got)
	}
	warn = acctest.Warnings(plan.Diagnostics)
	for _, want := range []string{
		fmt.Sprintf(`Token %d ("cluster") was created at %s`, tok.ID, acctest.Timestamp(tok.CreatedAt.Add(-25*time.Hour))),
		"older than rotate_after (24h)", "create_before_destroy",
	} {
		if !strings.Contains(warn, want) {
			t.Errorf("rotation warning lacks %q: %s", want, warn)
		}
	}

	// Revoked out of band, both forms: removed from state with a warning.
	if err := env.Mock.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, legacy := range []bool{false, true} {
		env.Mock.SetLegacyRevokedTokenGet(legacy)
		gone, _, diags := p.Read(tokenType, state, private)
		if errs := acctest.Errors(diags); errs != "" {
			t.Fatal(errs)
		}
		if !gone.IsNull() {
			t.Errorf("legacy=%v: a revoked token stays in state", legacy)
		}
		if warn := acctest.Warnings(diags); !strings.Contains(warn, "no longer active") || !strings.Contains(warn, "next plan creates a new token") {
			t.Errorf("legacy=%v: no warning about the revoked token: %q", legacy, warn)
		}
	}
}
