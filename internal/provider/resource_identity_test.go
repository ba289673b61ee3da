package provider_test

import (
	"context"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// receptiveAgent registers an agent with a JWT URL configuration out of band
// and returns the agent's and the configuration's IDs.
func receptiveAgent(t *testing.T, env *acctest.Env, name string) (agentID, configID int64) {
	t.Helper()
	env.Mock.SetReceptiveAgents(true)
	a, err := env.Mock.CreateAgent(acctest.ProjectID, name, acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	client, err := gitlab.New(gitlab.Config{BaseURL: env.BaseURL, Token: acctest.MaintainerToken})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.CreateURLConfiguration(context.Background(), acctest.ProjectPath, a.ID,
		&gitlab.CreateURLConfigurationOptions{URL: "grpcs://" + name + ".example.com:4242"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, c.ID
}

func number(n int64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }

func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

// Terraform 1.12 and later: each resource answers every create, read and
// import with its identity, and imports from one. Driven through the
// protocol, so that CI tests it whatever its Terraform version.
func TestResourceIdentity_importAndRead(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, "identity", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := env.Mock.CreateToken(agent.ID, "agentk", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	receptiveID, configID := receptiveAgent(t, env, "identity-receptive")

	for _, tc := range []struct {
		typeName string
		ids      map[string]int64
		importID string
	}{
		{"gitlabagent_cluster_agent", map[string]int64{"project_id": acctest.ProjectID, "agent_id": agent.ID},
			acctest.ProjectPath + ":" + strconv.FormatInt(agent.ID, 10)},
		{"gitlabagent_cluster_agent_token", map[string]int64{"project_id": acctest.ProjectID, "agent_id": agent.ID, "token_id": token.ID},
			acctest.ProjectPath + ":" + strconv.FormatInt(agent.ID, 10) + ":" + strconv.FormatInt(token.ID, 10)},
		{"gitlabagent_cluster_agent_url_configuration", map[string]int64{"project_id": acctest.ProjectID, "agent_id": receptiveID, "url_configuration_id": configID},
			acctest.ProjectPath + ":" + strconv.FormatInt(receptiveID, 10) + ":" + strconv.FormatInt(configID, 10)},
	} {
		func() {
			// import { identity = { … } }: state names the project by its ID,
			// and the first read gives the same identity back.
			state, private, identity, diags := p.ImportByIdentity(tc.typeName, tc.ids)
			if acctest.Errors(diags) != "" {
				t.Errorf("%s: import by identity: %s", tc.typeName, acctest.Errors(diags))
				return
			}
			if got := acctest.Attr(state, "project"); !got.Equal(str("20")) {
				t.Errorf("%s: imported project = %v, want \"20\"", tc.typeName, got)
			}
			if len(identity) != 0 && !sameIDs(identity, tc.ids) {
				t.Errorf("%s: import answered identity %v, want %v", tc.typeName, identity, tc.ids)
			}
			state, identity, diags = p.ReadIdentity(tc.typeName, state, private, tc.ids)
			if acctest.Errors(diags) != "" {
				t.Errorf("%s: read after import by identity: %s", tc.typeName, acctest.Errors(diags))
				return
			}
			if !sameIDs(identity, tc.ids) {
				t.Errorf("%s: read answered identity %v, want %v", tc.typeName, identity, tc.ids)
			}
			if got := acctest.Attr(state, "project_id"); !got.Equal(number(acctest.ProjectID)) {
				t.Errorf("%s: project_id after read = %v", tc.typeName, got)
			}

			// import by string ID, with the project's path: no identity
			// yet; the first read, with none, gives the whole of it.
			state, private, diags = p.Import(tc.typeName, tc.importID)
			if acctest.Errors(diags) != "" {
				t.Errorf("%s: import by ID: %s", tc.typeName, acctest.Errors(diags))
				return
			}
			state, identity, diags = p.ReadIdentity(tc.typeName, state, private, nil)
			if acctest.Errors(diags) != "" {
				t.Errorf("%s: read after import by ID: %s", tc.typeName, acctest.Errors(diags))
				return
			}
			if !sameIDs(identity, tc.ids) {
				t.Errorf("%s: read after import by ID answered identity %v, want %v", tc.typeName, identity, tc.ids)
			}
			if got := acctest.Attr(state, "project"); !got.Equal(str(acctest.ProjectPath)) {
				t.Errorf("%s: project imported by ID = %v, want the path as written", tc.typeName, got)
			}
		}()
	}
}

// A resource stored before identity existed has none; when its object is
// gone, the read that removes it must still succeed (the framework rejects
// a read answered without identity).
func TestResourceIdentity_readOfGoneObjectWithoutIdentity(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, "gone", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := env.Mock.CreateToken(agent.ID, "agentk", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	agentState, agentPrivate, diags := p.Import("gitlabagent_cluster_agent", acctest.ProjectPath+":"+strconv.FormatInt(agent.ID, 10))
	if acctest.Errors(diags) != "" {
		t.Fatal(acctest.Errors(diags))
	}
	agentState, _, _ = p.Read("gitlabagent_cluster_agent", agentState, agentPrivate)
	tokenState, tokenPrivate, diags := p.Import("gitlabagent_cluster_agent_token", acctest.ProjectPath+":"+
		strconv.FormatInt(agent.ID, 10)+":"+strconv.FormatInt(token.ID, 10))
	if acctest.Errors(diags) != "" {
		t.Fatal(acctest.Errors(diags))
	}
	if err := env.Mock.DeleteAgent(agent.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		typeName string
		state    tftypes.Value
		private  []byte
	}{{"gitlabagent_cluster_agent", agentState, agentPrivate}, {"gitlabagent_cluster_agent_token", tokenState, tokenPrivate}} {
		state, _, diags := p.ReadIdentity(r.typeName, r.state, r.private, nil)
		if acctest.Errors(diags) != "" {
			t.Errorf("%s: reading a gone object without identity failed: %s", r.typeName, acctest.Errors(diags))
		}
		if !state.IsNull() {
			t.Errorf("%s: the gone object was not removed from state", r.typeName)
		}
	}
}

func TestResourceIdentity_invalidImportIdentity(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	_, _, _, diags := p.ImportByIdentity("gitlabagent_cluster_agent_token",
		map[string]int64{"project_id": acctest.ProjectID, "agent_id": 0, "token_id": 3})
	want := acctest.ErrorRegexp("Invalid import identity", "agent_id is 0, not positive", "a GitLab ID, a whole number",
		"identity = { project_id = 20, agent_id = 42, token_id = 7 }")
	if got := acctest.Errors(diags); !want.MatchString(got) {
		t.Errorf("import with agent_id 0: got %q, want %s", got, want)
	}
	if n := len(env.Mock.Requests()); n != 0 {
		t.Errorf("an invalid identity sent %d requests to GitLab", n)
	}
}

// Numbers that are no GitLab ID (a fraction, beyond 64 bits, negative) are
// refused naming the field and the form, before any request.
func TestResourceIdentity_importIdentityOfNoID(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	huge, _, _ := big.ParseFloat("1e30", 10, 256, big.ToNearestEven)
	for _, tc := range []struct {
		typeName string
		ids      map[string]any
		field    string
	}{
		{"gitlabagent_cluster_agent", map[string]any{"project_id": acctest.ProjectID, "agent_id": 1.5}, "agent_id"},
		{"gitlabagent_cluster_agent", map[string]any{"project_id": huge, "agent_id": 1}, "project_id"},
		{"gitlabagent_cluster_agent_token", map[string]any{"project_id": acctest.ProjectID, "agent_id": 1, "token_id": huge}, "token_id"},
		{"gitlabagent_cluster_agent_url_configuration", map[string]any{"project_id": acctest.ProjectID, "agent_id": -2.5, "url_configuration_id": 1}, "agent_id"},
	} {
		_, _, _, diags := p.ImportByIdentityOf(tc.typeName, tc.ids)
		got := acctest.Errors(diags)
		want := acctest.ErrorRegexp("Invalid import identity", "The identity's "+tc.field+" is",
			"a whole number from 1 to 9223372036854775807", "identity = { project_id = 20, agent_id = 42")
		if !want.MatchString(got) || strings.Contains(got, "always an error in the provider") {
			t.Errorf("%s with %v: got %q, want %s", tc.typeName, tc.ids, got, want)
		}
	}
	if n := len(env.Mock.Requests()); n != 0 {
		t.Errorf("invalid identities sent %d requests to GitLab", n)
	}
}

func sameIDs(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The same through Terraform (1.12 and later): state carries the identity,
// and an import block with identity adopts the object without a change.
func TestAccResourceIdentity(t *testing.T) {
	env := acctest.New(t)
	config := env.Config(`
resource "gitlabagent_cluster_agent" "test" {
  project = "20"
  name    = "identity"
}

resource "gitlabagent_cluster_agent_token" "test" {
  project  = gitlabagent_cluster_agent.test.project
  agent_id = gitlabagent_cluster_agent.test.agent_id
  name     = "agentk"
}

resource "gitlabagent_cluster_agent_config" "test" {
  project       = gitlabagent_cluster_agent.test.project
  agent_name    = gitlabagent_cluster_agent.test.name
  observability = { logging = { level = "debug" } }
}
`)
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("gitlabagent_cluster_agent.test", map[string]knownvalue.Check{
						"project_id": knownvalue.Int64Exact(acctest.ProjectID),
						"agent_id":   knownvalue.NotNull(),
					}),
					statecheck.ExpectIdentityValueMatchesState("gitlabagent_cluster_agent.test", tfjsonpath.New("agent_id")),
					statecheck.ExpectIdentityValueMatchesState("gitlabagent_cluster_agent_token.test", tfjsonpath.New("token_id")),
					statecheck.ExpectIdentityValueMatchesState("gitlabagent_cluster_agent_token.test", tfjsonpath.New("agent_id")),
					statecheck.ExpectIdentityValueMatchesState("gitlabagent_cluster_agent_token.test", tfjsonpath.New("project_id")),
					statecheck.ExpectIdentity("gitlabagent_cluster_agent_config.test", map[string]knownvalue.Check{
						"project_id": knownvalue.Int64Exact(acctest.ProjectID),
						"agent_name": knownvalue.StringExact("identity"),
					}),
				},
			},
			{
				Config:          config,
				ResourceName:    "gitlabagent_cluster_agent_config.test",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent_config.test", plancheck.ResourceActionNoop),
					},
				},
			},
			{
				// import { identity = { project_id = …, agent_id = … } }:
				// imported with no change planned.
				Config:          config,
				ResourceName:    "gitlabagent_cluster_agent.test",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent.test", plancheck.ResourceActionNoop),
						plancheck.ExpectKnownValue("gitlabagent_cluster_agent.test", tfjsonpath.New("name"), knownvalue.StringExact("identity")),
					},
				},
			},
			{
				Config:          config,
				ResourceName:    "gitlabagent_cluster_agent_token.test",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("gitlabagent_cluster_agent_token.test", plancheck.ResourceActionNoop),
						// The secret cannot be imported.
						plancheck.ExpectKnownValue("gitlabagent_cluster_agent_token.test", tfjsonpath.New("token"), knownvalue.Null()),
					},
				},
			},
		},
	})
}
