package provider_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// The examples under examples/ are what the documentation shows; this test
// applies them against the mock GitLab, so that none of them rots:
//
//   - examples/resources/<type>/resource*.tf: applied (then destroyed) with
//     the maintainer's provider block prepended. Every object in state must
//     exist in the mock as state describes it, and the example must declare
//     at least one resource of <type>.
//   - examples/data-sources/<type>/data-source*.tf: likewise, after seeding
//     what data sources read (below); the example must read a <type>.
//   - examples/resources/<type>/import-by-string-id.tf: imported into an
//     object created out of band, with no change (see importExamples).
//   - examples/provider/provider.tf: applied with its variables given, plus
//     a data source that makes the provider talk to the mock.
//   - examples/demo: what `make demo` runs, applied, rotated, planned empty
//     and destroyed, with GITLAB_BASE_URL and GITLAB_TOKEN in the environment.
//
// Naming convention of the examples, which keeps seeding simple: examples use
// the project "root/test" (or "infra/platform/clusters"), and data-source
// examples read the agent "production" of root/test and its token "agentk".
// The test registers both out of band for every data-source example that
// does not register a gitlabagent_cluster_agent itself; an example that
// registers its own agents is applied as it is.
//
// Examples are discovered by globbing, so the examples of new types are
// tested as soon as they are written; a gitlabagent_* type this file has no
// state check for fails the test until one is added to checkObjectInMock.
//
// Examples cannot use for_each: terraform-plugin-testing reads state through
// a shim that rejects string instance keys ("for_each is not supported").

const examplesDir = "../../examples"

// Names every data-source example may rely on (see above).
const (
	seedAgentName = "production"
	seedTokenName = "agentk"
)

var registersAgent = regexp.MustCompile(`(?m)^\s*resource\s+"gitlabagent_cluster_agent"\s`)

func TestAccExamples(t *testing.T) {
	// Subtests that set environment variables run first, one at a time; the
	// others run in parallel once this function returns.
	t.Run("provider/provider.tf", testExampleProvider)
	t.Run("demo", testExampleDemo)

	for _, ex := range importExamples {
		t.Run(ex.rel, func(t *testing.T) {
			t.Parallel()
			testExampleImportBlock(t, ex.rel, ex.address, ex.seed, ex.minTerraform)
		})
	}

	resources := globExamples(t, "resources/*/resource*.tf")
	dataSources := globExamples(t, "data-sources/*/data-source*.tf")
	for _, rel := range resources {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			testExampleConfig(t, rel, false)
		})
	}
	for _, rel := range dataSources {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			testExampleConfig(t, rel, true)
		})
	}
	// The examples this file is responsible for must exist: a glob finding
	// nothing would make the test pass vacuously.
	for _, want := range []string{
		"resources/gitlabagent_cluster_agent/resource.tf",
		"resources/gitlabagent_cluster_agent_config/resource.tf",
		"data-sources/gitlabagent_cluster_agent/data-source.tf",
		"data-sources/gitlabagent_cluster_agents/data-source.tf",
	} {
		if !slices.Contains(append(resources, dataSources...), want) {
			t.Errorf("example %s is missing", want)
		}
	}
}

// globExamples returns the example files matching pattern, relative to examples/.
func globExamples(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	rel := make([]string, 0, len(files))
	for _, f := range files {
		r, err := filepath.Rel(examplesDir, f)
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	return rel
}

func readExample(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exampleType is the Terraform type an example documents: its directory's name.
func exampleType(rel string) string { return strings.Split(rel, "/")[1] }

// testExampleConfig applies one resource or data-source example.
func testExampleConfig(t *testing.T, rel string, dataSource bool) {
	env := acctest.New(t)
	hcl := readExample(t, rel)
	seed := seeded{}
	if dataSource && !registersAgent.MatchString(hcl) {
		seed = seedProductionAgent(t, env)
		// agentk runs for the seeded agent, for the examples that read or wait for its connections.
		if _, err := env.Mock.ConnectAgent(seed.agentID, mockgitlab.AgentConnection{PodName: "production-agentk-1"}); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		// Write-only attributes (client_key_wo) need Terraform 1.11.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{{
			Config: env.Config(hcl),
			Check:  checkStateAgainstMock(env, exampleType(rel), dataSource),
		}},
		CheckDestroy: checkOnlySeedLeft(env, seed),
	})
}

// seeded is what a test registered out of band before applying an example.
type seeded struct {
	agentID, tokenID int64
}

// seedProductionAgent registers the agent and token data-source examples read.
func seedProductionAgent(t *testing.T, env *acctest.Env) seeded {
	t.Helper()
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, seedAgentName, acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := env.Mock.CreateToken(agent.ID, seedTokenName, "Token of agentk in the production cluster", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	return seeded{agentID: agent.ID, tokenID: token.ID}
}

// checkOnlySeedLeft fails if destroying an example left anything in the
// mock beyond what was seeded: agents, active tokens, URL configurations.
func checkOnlySeedLeft(env *acctest.Env, seed seeded) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, projectID := range []int64{acctest.ProjectID, acctest.NestedProjectID} {
			for _, a := range env.Mock.Agents(projectID) {
				if a.ID != seed.agentID {
					return fmt.Errorf("destroy left agent %d (%q) in project %d", a.ID, a.Name, projectID)
				}
				for _, tok := range env.Mock.ActiveTokens(a.ID) {
					if tok.ID != seed.tokenID {
						return fmt.Errorf("destroy left token %d (%q) of agent %d active", tok.ID, tok.Name, a.ID)
					}
				}
				if c, ok := env.Mock.URLConfiguration(a.ID); ok {
					return fmt.Errorf("destroy left URL configuration %d of agent %d", c.ID, a.ID)
				}
			}
		}
		return nil
	}
}

// checkStateAgainstMock checks every gitlabagent object in state against the
// mock GitLab, and that the example declares at least one object of its own
// type (a data source for data-source examples).
func checkStateAgainstMock(env *acctest.Env, ownType string, dataSource bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		own := 0
		for addr, rs := range s.RootModule().Resources {
			isData := strings.HasPrefix(addr, "data.")
			if rs.Type == ownType && isData == dataSource {
				own++
			}
			if !strings.HasPrefix(rs.Type, "gitlabagent_") {
				continue
			}
			if err := checkObjectInMock(env, rs.Type, isData, rs.Primary.Attributes); err != nil {
				return fmt.Errorf("%s: %w", addr, err)
			}
		}
		if own == 0 {
			kind := "resource"
			if dataSource {
				kind = "data source"
			}
			return fmt.Errorf("the example declares no %s %s", ownType, kind)
		}
		return nil
	}
}

// checkObjectInMock compares one object in state with the mock's record.
func checkObjectInMock(env *acctest.Env, typ string, isData bool, attrs map[string]string) error {
	id := func(name string) (int64, error) {
		v, err := strconv.ParseInt(attrs[name], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s = %q is not an ID", name, attrs[name])
		}
		return v, nil
	}
	agentID, agentErr := id("agent_id")
	switch typ {
	case "gitlabagent_cluster_agent":
		if agentErr != nil {
			return agentErr
		}
		a, ok := env.Mock.Agent(agentID)
		if !ok {
			return fmt.Errorf("agent %d is not in the mock GitLab", agentID)
		}
		want := map[string]string{
			"name":       a.Name,
			"project_id": strconv.FormatInt(a.ProjectID, 10),
			"id":         fmt.Sprintf("%d:%d", a.ProjectID, a.ID),
		}
		if isData {
			// Only the data source has is_receptive (see the resource's description).
			want["is_receptive"] = strconv.FormatBool(a.IsReceptive)
		}
		return expectAttributes(attrs, want, isData)

	case "gitlabagent_cluster_agents":
		projectID, err := id("project_id")
		if err != nil {
			return err
		}
		agents := env.Mock.Agents(projectID)
		if len(agents) == 0 {
			return fmt.Errorf("project %d has no agents: the example shows nothing", projectID)
		}
		want := map[string]string{"agents.#": strconv.Itoa(len(agents))}
		for i, a := range agents {
			want[fmt.Sprintf("agents.%d.agent_id", i)] = strconv.FormatInt(a.ID, 10)
			want[fmt.Sprintf("agents.%d.name", i)] = a.Name
		}
		return expectAttributes(attrs, want, true)

	case "gitlabagent_cluster_agent_token":
		tokenID, err := id("token_id")
		if err != nil {
			return err
		}
		tok, ok := env.Mock.Token(tokenID)
		if !ok {
			return fmt.Errorf("token %d is not in the mock GitLab", tokenID)
		}
		if tok.Status != "active" {
			return fmt.Errorf("token %d is %s in the mock GitLab", tokenID, tok.Status)
		}
		if !isData {
			// Compared without ever printing either value.
			if subtle.ConstantTimeCompare([]byte(attrs["token"]), []byte(tok.Token)) != 1 || tok.Token == "" {
				return fmt.Errorf("the token secret in state is not the one GitLab returned for token %d", tokenID)
			}
		}
		return expectAttributes(attrs, map[string]string{
			"name":     tok.Name,
			"agent_id": strconv.FormatInt(tok.AgentID, 10),
		}, isData)

	case "gitlabagent_cluster_agent_tokens":
		if agentErr != nil {
			return agentErr
		}
		active := env.Mock.ActiveTokens(agentID)
		want := map[string]string{"tokens.#": strconv.Itoa(len(active))}
		for i, tok := range active {
			want[fmt.Sprintf("tokens.%d.token_id", i)] = strconv.FormatInt(tok.ID, 10)
		}
		return expectAttributes(attrs, want, true)

	case "gitlabagent_cluster_agent_url_configuration":
		if agentErr != nil {
			return agentErr
		}
		c, ok := env.Mock.URLConfiguration(agentID)
		if !ok {
			return fmt.Errorf("agent %d has no URL configuration in the mock GitLab", agentID)
		}
		want := map[string]string{
			"url_configuration_id": strconv.FormatInt(c.ID, 10),
			"url":                  c.URL,
		}
		if c.PublicKey != nil {
			want["public_key"] = *c.PublicKey
		}
		return expectAttributes(attrs, want, isData)

	case "gitlabagent_kas":
		kas := env.Mock.KAS(strings.TrimSuffix(env.BaseURL, "/api/v4"))
		want := map[string]string{"enabled": strconv.FormatBool(kas.Enabled)}
		if kas.ExternalURL != nil {
			want["external_url"] = *kas.ExternalURL
		}
		return expectAttributes(attrs, want, true)

	case "gitlabagent_cluster_agent_connections":
		if agentErr != nil {
			return agentErr
		}
		conns := env.Mock.AgentConnections(agentID)
		want := map[string]string{"connected": strconv.FormatBool(len(conns) > 0), "connections.#": strconv.Itoa(len(conns))}
		for i, c := range conns {
			want[fmt.Sprintf("connections.%d.connection_id", i)] = strconv.FormatInt(c.ConnectionID, 10)
			want[fmt.Sprintf("connections.%d.pod_name", i)] = c.PodName
		}
		return expectAttributes(attrs, want, true)
	case "gitlabagent_cluster_agent_config":
		projectID, err := id("project_id")
		if err != nil {
			return err
		}
		if _, ok := env.Mock.RepositoryFile(projectID, attrs["file_path"]); !ok {
			return fmt.Errorf("%s is not on the default branch of project %d", attrs["file_path"], projectID)
		}
		last, _ := env.Mock.FileLastCommit(projectID, attrs["file_path"])
		return expectAttributes(attrs, map[string]string{
			"file_path":      ".gitlab/agents/" + attrs["agent_name"] + "/config.yaml",
			"last_commit_id": last.ID,
			"id":             fmt.Sprintf("%d:%s", projectID, attrs["agent_name"]),
		}, isData)

	case "gitlabagent_cluster_agent_url_configurations":
		if agentErr != nil {
			return agentErr
		}
		want := map[string]string{"url_configurations.#": "0"}
		if c, ok := env.Mock.URLConfiguration(agentID); ok {
			want["url_configurations.#"] = "1"
			want["url_configurations.0.url"] = c.URL
		}
		return expectAttributes(attrs, want, true)
	}
	return fmt.Errorf("examples_test.go has no check for %s: add one to checkObjectInMock", typ)
}

// expectAttributes compares state attributes with the wanted values. Data
// sources are read once: an attribute they lack (e.g. is_receptive on an
// edition that does not report it) is not compared.
func expectAttributes(attrs, want map[string]string, isData bool) error {
	for k, v := range want {
		got, ok := attrs[k]
		if !ok && isData {
			continue
		}
		if got != v {
			return fmt.Errorf("%s = %q in state, the mock GitLab has %q", k, got, v)
		}
	}
	return nil
}

// importExamples are the import-block examples: each imports an object that
// its seed function creates out of band. The examples use placeholder IDs
// (agent 42, token 7, URL configuration 3), replaced by the seeded ones.
var importExamples = []struct {
	rel, address string
	seed         func(t *testing.T, env *acctest.Env) (seed seeded, placeholders *strings.Replacer, wantID string)
	// minTerraform is the Terraform version the example needs, if any.
	minTerraform *version.Version
}{
	{
		rel:     "resources/gitlabagent_cluster_agent/import-by-string-id.tf",
		address: "gitlabagent_cluster_agent.example",
		seed: func(t *testing.T, env *acctest.Env) (seeded, *strings.Replacer, string) {
			agent := seedAgent(t, env)
			return seeded{}, strings.NewReplacer(`"root/test:42"`, fmt.Sprintf(`"root/test:%d"`, agent.ID)),
				fmt.Sprintf("%d:%d", acctest.ProjectID, agent.ID)
		},
	},
	{
		rel:     "resources/gitlabagent_cluster_agent_token/import-by-string-id.tf",
		address: "gitlabagent_cluster_agent_token.agentk",
		seed: func(t *testing.T, env *acctest.Env) (seeded, *strings.Replacer, string) {
			agent := seedAgent(t, env)
			token, err := env.Mock.CreateToken(agent.ID, seedTokenName, "", acctest.MaintainerUserID)
			if err != nil {
				t.Fatal(err)
			}
			return seeded{agentID: agent.ID}, strings.NewReplacer(
					`"root/test:42:7"`, fmt.Sprintf(`"root/test:%d:%d"`, agent.ID, token.ID),
					"agent_id = 42", fmt.Sprintf("agent_id = %d", agent.ID)),
				fmt.Sprintf("%d:%d:%d", acctest.ProjectID, agent.ID, token.ID)
		},
	},
	{
		rel:     "resources/gitlabagent_cluster_agent_url_configuration/import-by-string-id.tf",
		address: "gitlabagent_cluster_agent_url_configuration.production",
		seed: func(t *testing.T, env *acctest.Env) (seeded, *strings.Replacer, string) {
			agent := seedAgent(t, env)
			cfg := createURLConfigOutOfBand(t, env, agent.ID, &gitlab.CreateURLConfigurationOptions{URL: "grpcs://agent.example.com:4242"})
			return seeded{agentID: agent.ID}, strings.NewReplacer(
					`"root/test:42:3"`, fmt.Sprintf(`"root/test:%d:%d"`, agent.ID, cfg.ID),
					"agent_id = 42", fmt.Sprintf("agent_id = %d", agent.ID)),
				fmt.Sprintf("%d:%d:%d", acctest.ProjectID, agent.ID, cfg.ID)
		},
	},
	{
		rel:          "resources/gitlabagent_cluster_agent/import-by-identity.tf",
		address:      "gitlabagent_cluster_agent.example",
		minTerraform: tfversion.Version1_12_0,
		seed: func(t *testing.T, env *acctest.Env) (seeded, *strings.Replacer, string) {
			agent := seedAgent(t, env)
			return seeded{}, strings.NewReplacer("agent_id   = 42", fmt.Sprintf("agent_id   = %d", agent.ID)),
				fmt.Sprintf("%d:%d", acctest.ProjectID, agent.ID)
		},
	},
	{
		rel:          "resources/gitlabagent_cluster_agent_token/import-by-identity.tf",
		address:      "gitlabagent_cluster_agent_token.agentk",
		minTerraform: tfversion.Version1_12_0,
		seed: func(t *testing.T, env *acctest.Env) (seeded, *strings.Replacer, string) {
			agent := seedAgent(t, env)
			token, err := env.Mock.CreateToken(agent.ID, seedTokenName, "", acctest.MaintainerUserID)
			if err != nil {
				t.Fatal(err)
			}
			return seeded{agentID: agent.ID}, strings.NewReplacer(
					"agent_id   = 42", fmt.Sprintf("agent_id   = %d", agent.ID),
					"token_id   = 7", fmt.Sprintf("token_id   = %d", token.ID),
					"agent_id = 42", fmt.Sprintf("agent_id = %d", agent.ID)),
				fmt.Sprintf("%d:%d:%d", acctest.ProjectID, agent.ID, token.ID)
		},
	},
	{
		rel:          "resources/gitlabagent_cluster_agent_url_configuration/import-by-identity.tf",
		address:      "gitlabagent_cluster_agent_url_configuration.production",
		minTerraform: tfversion.Version1_12_0,
		seed: func(t *testing.T, env *acctest.Env) (seeded, *strings.Replacer, string) {
			agent := seedAgent(t, env)
			cfg := createURLConfigOutOfBand(t, env, agent.ID, &gitlab.CreateURLConfigurationOptions{URL: "grpcs://agent.example.com:4242"})
			return seeded{agentID: agent.ID}, strings.NewReplacer(
					"agent_id             = 42", fmt.Sprintf("agent_id             = %d", agent.ID),
					"url_configuration_id = 3", fmt.Sprintf("url_configuration_id = %d", cfg.ID),
					"agent_id = 42", fmt.Sprintf("agent_id = %d", agent.ID)),
				fmt.Sprintf("%d:%d:%d", acctest.ProjectID, agent.ID, cfg.ID)
		},
	},
}

func seedAgent(t *testing.T, env *acctest.Env) mockgitlab.AgentInfo {
	t.Helper()
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, seedAgentName, acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	return agent
}

// testExampleImportBlock applies an import-block example to an object created
// out of band: the import must adopt it without any change and create nothing.
func testExampleImportBlock(t *testing.T, rel, address string, seed func(*testing.T, *acctest.Env) (seeded, *strings.Replacer, string), minTerraform *version.Version) {
	env := acctest.New(t)
	hcl := readExample(t, rel)
	left, placeholders, wantID := seed(t, env)
	env.Mock.ResetRequests() // what seeding sent is not the import's doing
	imported := placeholders.Replace(hcl)
	if imported == hcl {
		t.Fatalf("%s no longer uses the placeholder IDs this test replaces: update the test", rel)
	}
	var versionChecks []tfversion.TerraformVersionCheck
	if minTerraform != nil {
		versionChecks = append(versionChecks, tfversion.SkipBelow(minTerraform))
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   versionChecks,
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(imported),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionNoop)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(wantID)),
				statecheck.ExpectKnownValue(address, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
			},
			// Adopted, not created again.
			Check: func(*terraform.State) error {
				for _, r := range env.Mock.Requests() {
					if r.Method == http.MethodPost {
						return fmt.Errorf("importing made a create request: %s %s", r.Method, r.Path)
					}
				}
				return nil
			},
		}},
		CheckDestroy: checkOnlySeedLeft(env, left),
	})
}

// testExampleProvider applies the provider example with its variables set for
// the mock, plus a data source: the provider configured as the example shows
// must reach GitLab with the token given.
func testExampleProvider(t *testing.T) {
	env := acctest.New(t)
	// The example's required_providers names gitlabagent/gitlabagent.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "gitlabagent")
	t.Setenv("GITLAB_BASE_URL", "")
	t.Setenv("GITLAB_TOKEN", "")
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, seedAgentName, acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	hcl := readExample(t, "provider/provider.tf") + `
data "gitlabagent_cluster_agent" "check" {
  project = "root/test"
  name    = "production"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: hcl,
				ConfigVariables: config.Variables{
					"gitlab_base_url": config.StringVariable(env.BaseURL),
					"gitlab_token":    config.StringVariable(acctest.MaintainerToken),
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.check", tfjsonpath.New("agent_id"), knownvalue.Int64Exact(agent.ID)),
				},
			},
			{
				// The variables are what reaches the provider: a wrong token fails.
				Config: hcl,
				ConfigVariables: config.Variables{
					"gitlab_base_url": config.StringVariable(env.BaseURL),
					"gitlab_token":    config.StringVariable("glpat-not-a-valid-token"),
				},
				ExpectError: acctest.ErrorRegexp("GitLab rejected the token (401 Unauthorized)"),
			},
		},
	})
}

// testExampleDemo runs what `make demo` does with examples/demo: apply,
// rotate the token, check the next plan is empty, destroy.
func testExampleDemo(t *testing.T) {
	env := acctest.New(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "gitlabagent")
	t.Setenv("GITLAB_BASE_URL", env.BaseURL)
	t.Setenv("GITLAB_TOKEN", acctest.MaintainerToken)

	const (
		agent     = "gitlabagent_cluster_agent.demo"
		receptive = "gitlabagent_cluster_agent.receptive"
		token     = "gitlabagent_cluster_agent_token.demo"
		urlConfig = "gitlabagent_cluster_agent_url_configuration.receptive"
	)
	demo := config.StaticDirectory(filepath.Join(examplesDir, "demo"))
	var firstTokenID, demoAgentID int64

	// The demo's objects, as the mock has them.
	checkMock := func(s *terraform.State) error {
		agents := env.Mock.Agents(acctest.ProjectID)
		names := make([]string, 0, len(agents))
		for _, a := range agents {
			names = append(names, a.Name)
		}
		if !slices.Equal(names, []string{"demo", "demo-receptive"}) {
			return fmt.Errorf("mock agents of root/test: %v, want [demo demo-receptive]", names)
		}
		agentID, err := acctest.Int64Attribute(s, agent, "agent_id")
		if err != nil {
			return err
		}
		active := env.Mock.ActiveTokens(agentID)
		if len(active) != 1 {
			return fmt.Errorf("agent demo has %d active tokens, want 1", len(active))
		}
		tokenID, err := acctest.Int64Attribute(s, token, "token_id")
		if err != nil {
			return err
		}
		if active[0].ID != tokenID {
			return fmt.Errorf("the active token is %d, state has %d", active[0].ID, tokenID)
		}
		secret, err := acctest.Attribute(s, token, "token")
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(secret), []byte(active[0].Token)) != 1 {
			return fmt.Errorf("the token secret in state is not the one GitLab returned for token %d", tokenID)
		}
		receptiveID, err := acctest.Int64Attribute(s, receptive, "agent_id")
		if err != nil {
			return err
		}
		c, ok := env.Mock.URLConfiguration(receptiveID)
		if !ok || c.PublicKey == nil {
			return fmt.Errorf("agent demo-receptive has no JWT URL configuration in the mock")
		}
		if got, _ := acctest.Attribute(s, urlConfig, "public_key"); got != *c.PublicKey {
			return fmt.Errorf("public_key in state %q, the mock has %q", got, *c.PublicKey)
		}
		// The agent's configuration is committed to the default branch, with its user_access.
		content, ok := env.Mock.RepositoryFile(acctest.ProjectID, ".gitlab/agents/demo/config.yaml")
		if !ok || !strings.Contains(string(content), "user_access:") || !strings.Contains(string(content), "id: root/test") {
			return fmt.Errorf("the demo agent's configuration file is missing or incomplete: %q", content)
		}
		last, _ := env.Mock.FileLastCommit(acctest.ProjectID, ".gitlab/agents/demo/config.yaml")
		if got, _ := acctest.Attribute(s, "gitlabagent_cluster_agent_config.demo", "last_commit_id"); got != last.ID {
			return fmt.Errorf("last_commit_id in state %q, the mock has %q", got, last.ID)
		}
		return nil
	}
	// The outputs: token_id and token are the token's, token is sensitive;
	// secrets are compared, never printed.
	checkDemoOutputs := func(s *terraform.State) error {
		outputs := s.RootModule().Outputs
		tokenID, err := acctest.Attribute(s, token, "token_id")
		if err != nil {
			return err
		}
		if o := outputs["token_id"]; o == nil || fmt.Sprint(o.Value) != tokenID {
			return fmt.Errorf("output token_id is not the token's ID %s", tokenID)
		}
		secret, err := acctest.Attribute(s, token, "token")
		if err != nil {
			return err
		}
		o := outputs["token"]
		if o == nil || !o.Sensitive {
			return fmt.Errorf("output token is missing or not sensitive")
		}
		if v, _ := o.Value.(string); secret == "" || subtle.ConstantTimeCompare([]byte(v), []byte(secret)) != 1 {
			return fmt.Errorf("output token is not the token's secret")
		}
		return nil
	}

	// The demo has its own provider block, so the provider factories go on
	// each step (terraform-plugin-testing rejects them on the TestCase).
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				ConfigDirectory:          demo,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(token, plancheck.ResourceActionCreate),
						plancheck.ExpectSensitiveValue(token, tfjsonpath.New("token")),
						outputSensitive("token"),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("kas_address", knownvalue.StringExact(
						"ws://"+strings.TrimPrefix(strings.TrimSuffix(env.BaseURL, "/api/v4"), "http://")+"/-/kubernetes-agent/")),
					// Registered, with a token: not connected until agentk connects.
					statecheck.ExpectKnownOutputValue("agentk", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"connected": knownvalue.Bool(false), "pods": knownvalue.ListExact([]knownvalue.Check{}),
					})),
					statecheck.ExpectKnownOutputValue("agents", knownvalue.MapExact(map[string]knownvalue.Check{
						"demo": knownvalue.ObjectExact(map[string]knownvalue.Check{
							"agent_id": knownvalue.NotNull(), "is_receptive": knownvalue.Bool(false),
						}),
						"demo-receptive": knownvalue.ObjectExact(map[string]knownvalue.Check{
							"agent_id": knownvalue.NotNull(), "is_receptive": knownvalue.Bool(true),
						}),
					})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkMock,
					checkDemoOutputs,
					func(s *terraform.State) error {
						var err error
						if demoAgentID, err = acctest.Int64Attribute(s, agent, "agent_id"); err != nil {
							return err
						}
						firstTokenID, err = acctest.Int64Attribute(s, token, "token_id")
						return err
					},
				),
			},
			{
				// As in `make demo`: the apply waits for agentk, which connects while it waits.
				PreConfig: func() {
					reads := env.Mock.CountRequests(http.MethodPost, "/api/graphql")
					go func() {
						for env.Mock.CountRequests(http.MethodPost, "/api/graphql") < reads+2 {
							time.Sleep(50 * time.Millisecond)
						}
						if _, err := env.Mock.ConnectAgent(demoAgentID, mockgitlab.AgentConnection{PodNamespace: "gitlab-agent-demo", PodName: "agentk-0"}); err != nil {
							panic(err)
						}
					}()
				},
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				ConfigDirectory:          demo,
				ConfigVariables:          config.Variables{"wait_for_agentk": config.StringVariable("1m")},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("agentk", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"connected": knownvalue.Bool(true),
						"pods":      knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("gitlab-agent-demo/agentk-0")}),
					})),
				},
			},
			{
				// A rotation, as `terraform apply -replace=...` in the demo
				// does it (the test framework cannot pass -replace): the token
				// is made older than its rotate_after, so the plan replaces
				// it, creating the new token before revoking the old one.
				PreConfig: func() {
					if err := env.Mock.AgeToken(firstTokenID, 721*time.Hour); err != nil {
						t.Fatal(err)
					}
				},
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				ConfigDirectory:          demo,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(token, plancheck.ResourceActionCreateBeforeDestroy),
						plancheck.ExpectResourceAction(agent, plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction(urlConfig, plancheck.ResourceActionNoop),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkMock,
					checkDemoOutputs,
					func(s *terraform.State) error {
						id, err := acctest.Int64Attribute(s, token, "token_id")
						if err != nil {
							return err
						}
						if id == firstTokenID {
							return fmt.Errorf("token_id is still %d after the rotation", id)
						}
						if old, _ := env.Mock.Token(firstTokenID); old.Status != "revoked" {
							return fmt.Errorf("the rotated-out token %d is %q in the mock, want revoked", firstTokenID, old.Status)
						}
						return nil
					},
				),
			},
			{
				ProtoV6ProviderFactories: acctest.ProviderFactories(),
				ConfigDirectory:          demo,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
		CheckDestroy: checkOnlySeedLeft(env, seeded{}),
	})
}

// outputSensitive checks that the plan marks an output sensitive.
func outputSensitive(name string) plancheck.PlanCheck { return outputSensitiveCheck{name: name} }

type outputSensitiveCheck struct{ name string }

func (c outputSensitiveCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	change, ok := req.Plan.OutputChanges[c.name]
	if !ok {
		resp.Error = fmt.Errorf("the plan has no output %q", c.name)
		return
	}
	if sensitive, _ := change.AfterSensitive.(bool); !sensitive {
		resp.Error = fmt.Errorf("output %q is not sensitive in the plan", c.name)
	}
}
