package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// terraformVersion asks the binary the tests use for its version.
func terraformVersion(t *testing.T, binary string) *version.Version {
	t.Helper()
	out, err := exec.Command(binary, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %v", binary, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return version.Must(version.NewVersion(v.Version))
}

// seedForQuery registers, out of band, what the list resource examples find:
// agents prod-a (with a token) and prod-b (receptive), and staging, which
// name_prefix "prod-" leaves out.
func seedForQuery(t *testing.T, env *acctest.Env) (agents map[string]mockgitlab.AgentInfo, tokenID, configID int64) {
	t.Helper()
	agents = map[string]mockgitlab.AgentInfo{}
	for _, name := range []string{"prod-a", "staging"} {
		a, err := env.Mock.CreateAgent(acctest.ProjectID, name, acctest.MaintainerUserID)
		if err != nil {
			t.Fatal(err)
		}
		agents[name] = a
	}
	tok, err := env.Mock.CreateToken(agents["prod-a"].ID, "agentk", "Token of agentk in prod-a", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	receptiveID, configID := receptiveAgent(t, env, "prod-b")
	agents["prod-b"], _ = env.Mock.Agent(receptiveID)
	return agents, tok.ID, configID
}

// TestAccListResources runs the list resource examples with `terraform query`
// (Terraform 1.14 and later) and checks what they find.
func TestAccListResources(t *testing.T) {
	env := acctest.New(t)
	agents, tokenID, configID := seedForQuery(t, env)
	t.Setenv("GITLAB_BASE_URL", env.BaseURL)
	t.Setenv("GITLAB_TOKEN", acctest.MaintainerToken)
	var query strings.Builder
	for _, typ := range []string{"gitlabagent_cluster_agent", "gitlabagent_cluster_agent_token", "gitlabagent_cluster_agent_url_configuration"} {
		b, err := os.ReadFile(filepath.Join(examplesDir, "list-resources", typ, "list-resource.tfquery.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		query.Write(b)
	}
	id := func(n int64) knownvalue.Check { return knownvalue.Int64Exact(n) }
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				// The query runs beside a configuration; this one manages nothing.
				Config: `provider "gitlabagent" {}`,
			},
			{
				Query:  true,
				Config: query.String(),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("gitlabagent_cluster_agent.production", 2),
					querycheck.ExpectIdentity("gitlabagent_cluster_agent.production", map[string]knownvalue.Check{
						"project_id": id(acctest.ProjectID), "agent_id": id(agents["prod-a"].ID),
					}),
					querycheck.ExpectIdentity("gitlabagent_cluster_agent.production", map[string]knownvalue.Check{
						"project_id": id(acctest.ProjectID), "agent_id": id(agents["prod-b"].ID),
					}),
					querycheck.ExpectNoIdentity("gitlabagent_cluster_agent.production", map[string]knownvalue.Check{
						"project_id": id(acctest.ProjectID), "agent_id": id(agents["staging"].ID),
					}),
					querycheck.ExpectLength("gitlabagent_cluster_agent_token.all", 1),
					querycheck.ExpectIdentity("gitlabagent_cluster_agent_token.all", map[string]knownvalue.Check{
						"project_id": id(acctest.ProjectID), "agent_id": id(agents["prod-a"].ID), "token_id": id(tokenID),
					}),
					querycheck.ExpectLength("gitlabagent_cluster_agent_url_configuration.receptive", 1),
					querycheck.ExpectIdentity("gitlabagent_cluster_agent_url_configuration.receptive", map[string]knownvalue.Check{
						"project_id": id(acctest.ProjectID), "agent_id": id(agents["prod-b"].ID), "url_configuration_id": id(configID),
					}),
				},
			},
		},
	})
}

// TestAccQueryGeneratesConfigThatImports is the promise of list resources:
// `terraform query -generate-config-out=generated.tf` writes configuration
// that adopts what exists in GitLab in one apply, which imports everything
// and changes nothing, after which the plan is empty.
func TestAccQueryGeneratesConfigThatImports(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	terraform := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if v := terraformVersion(t, terraform); v.LessThan(version.Must(version.NewVersion("1.14.0"))) {
		t.Skipf("terraform query needs Terraform 1.14 or later; %s is %s", terraform, v)
	}
	agents, tokenID, configID := seedForQuery(t, env)

	dir := t.TempDir()
	main := `
terraform {
  required_providers {
    gitlabagent = {
      source = "` + acctest.ProviderHost() + `/gitlabagent/gitlabagent"
    }
  }
}

provider "gitlabagent" {
  base_url = "` + env.BaseURL + `"
  token    = "` + acctest.MaintainerToken + `"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"gitlabagent_cluster_agent", "gitlabagent_cluster_agent_token", "gitlabagent_cluster_agent_url_configuration"} {
		b, err := os.ReadFile(filepath.Join(examplesDir, "list-resources", typ, "list-resource.tfquery.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, typ+".tfquery.hcl"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	environment := append(os.Environ(), "TF_REATTACH_PROVIDERS="+acctest.ServeInProcess(t), "TF_IN_AUTOMATION=1")
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(context.Background(), terraform, append(args, "-no-color")...)
		cmd.Dir = dir
		cmd.Env = environment
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			code = -1
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
		}
		return string(out), code
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, code := run(args...)
		if code != 0 {
			t.Fatalf("terraform %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	mustRun("init", "-input=false")
	mustRun("query", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(dir, "generated.tf"))
	if err != nil {
		t.Fatalf("terraform query wrote no configuration: %v", err)
	}
	for _, want := range []string{
		fmt.Sprintf("agent_id = %d", agents["prod-a"].ID),
		fmt.Sprintf("token_id = %d", tokenID),
		fmt.Sprintf("url_configuration_id = %d", configID),
		`name = "prod-b"`,
		`url = "grpcs://prod-b.example.com:4242"`,
	} {
		if !strings.Contains(normalizeSpaces(string(generated)), want) {
			t.Errorf("generated.tf lacks %q:\n%s", want, generated)
		}
	}
	if strings.Contains(string(generated), `"staging"`) {
		t.Errorf("generated.tf adopts agent staging, which name_prefix leaves out:\n%s", generated)
	}

	env.Mock.ResetRequests()
	mustRun("plan", "-input=false", "-out=adopt.tfplan")
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions   []string        `json:"actions"`
				Importing json.RawMessage `json:"importing"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(mustRun("show", "-json", "adopt.tfplan")), &plan); err != nil {
		t.Fatal(err)
	}
	var imported []string
	for _, rc := range plan.ResourceChanges {
		if !slices.Equal(rc.Change.Actions, []string{"no-op"}) || len(rc.Change.Importing) == 0 {
			t.Errorf("%s: planned %v (importing: %s), want an import and nothing else", rc.Address, rc.Change.Actions, rc.Change.Importing)
		}
		imported = append(imported, rc.Address)
	}
	// Two agents, a token and a URL configuration.
	if len(imported) != 4 {
		t.Errorf("the generated configuration imports %v, want 4 objects", imported)
	}
	mustRun("apply", "-input=false", "adopt.tfplan")
	if out, code := run("plan", "-input=false", "-detailed-exitcode"); code != 0 {
		t.Errorf("after adopting, the plan is not empty (exit %d):\n%s", code, out)
	}
	for _, r := range env.Mock.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("adopting sent %s %s; want reads only", r.Method, r.Path)
		}
	}
	for name, a := range agents {
		if _, ok := env.Mock.Agent(a.ID); !ok {
			t.Errorf("agent %s is gone", name)
		}
	}
	if tok, ok := env.Mock.Token(tokenID); !ok || tok.Status != "active" {
		t.Errorf("token %d is no longer active", tokenID)
	}
}

// normalizeSpaces collapses runs of spaces, as terraform fmt aligns "=".
func normalizeSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
