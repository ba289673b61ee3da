package provider_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"sigs.k8s.io/yaml"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const agentConfigResource = "gitlabagent_cluster_agent_config.test"

const productionConfigPath = ".gitlab/agents/production/config.yaml"

// agentConfigHCL is a configuration with every typed block and additional_config.
func agentConfigHCL(project, level string, extra string) string {
	return fmt.Sprintf(`
resource "gitlabagent_cluster_agent_config" "test" {
  project    = %q
  agent_name = "production"
  %s

  ci_access = {
    projects = [{
      id                      = "root/test"
      default_namespace       = "apps"
      access_as               = { ci_job = {} }
      environments            = ["production", "review/*"]
      protected_branches_only = true
    }]
    groups = [{ id = "root" }]
  }

  user_access = {
    access_as = { agent = {} }
    projects  = [{ id = "root/test" }]
  }

  observability = {
    logging = { level = %q }
  }

  additional_config = yamlencode({ flux = { webhook_receiver_url = "http://receiver.flux-system" } })
}
`, project, extra, level)
}

// wantDocument is what agentConfigHCL commits, as a parsed document.
func wantDocument(level string) map[string]any {
	return map[string]any{
		"ci_access": map[string]any{
			"projects": []any{map[string]any{
				"id": "root/test", "default_namespace": "apps", "access_as": map[string]any{"ci_job": map[string]any{}},
				"environments": []any{"production", "review/*"}, "protected_branches_only": true,
			}},
			"groups": []any{map[string]any{"id": "root"}},
		},
		"user_access": map[string]any{
			"access_as": map[string]any{"agent": map[string]any{}},
			"projects":  []any{map[string]any{"id": "root/test"}},
		},
		"observability": map[string]any{"logging": map[string]any{"level": level}},
		"flux":          map[string]any{"webhook_receiver_url": "http://receiver.flux-system"},
	}
}

// checkFile compares the file on the mock's default branch with the document, and the state's
// last_commit_id with the file's last commit.
func checkFile(env *acctest.Env, want map[string]any) resource.TestCheckFunc {
	projectID := acctest.ProjectID
	return func(s *terraform.State) error {
		content, ok := env.Mock.RepositoryFile(projectID, productionConfigPath)
		if !ok {
			return fmt.Errorf("%s is not in project %d", productionConfigPath, projectID)
		}
		if !strings.HasPrefix(string(content), "# Managed by Terraform") {
			return fmt.Errorf("the file has no header saying Terraform manages it:\n%s", content)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(content, &doc); err != nil {
			return err
		}
		if fmt.Sprint(doc) != fmt.Sprint(want) {
			return fmt.Errorf("file holds\n%s\nwant %v", content, want)
		}
		last, _ := env.Mock.FileLastCommit(projectID, productionConfigPath)
		got, err := acctest.Attribute(s, agentConfigResource, "last_commit_id")
		if err != nil {
			return err
		}
		if got != last.ID {
			return fmt.Errorf("last_commit_id = %q, want the file's last commit %s", got, last.ID)
		}
		return nil
	}
}

// checkLastCommit checks the message and author of the newest commit of the project.
func checkLastCommit(env *acctest.Env, message, authorName string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c := env.Mock.Commits(acctest.ProjectID)[0]
		if c.Message != message || c.AuthorName != authorName {
			return fmt.Errorf("last commit is %q by %q, want %q by %q", c.Message, c.AuthorName, message, authorName)
		}
		return nil
	}
}

// outOfBand is a plan check that acts on GitLab between plan and apply, where a colleague's commit
// would land.
type outOfBand func() error

func (f outOfBand) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f()
}

func pushConfig(env *acctest.Env, projectID int64, content string) func() {
	return func() {
		if _, err := env.Mock.PushFile(projectID, productionConfigPath, []byte(content), "root", "Edit by hand"); err != nil {
			panic(err)
		}
	}
}

func TestAccClusterAgentConfig_lifecycle(t *testing.T) {
	env := acctest.New(t)
	var commitsBeforeNoop int
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy: func(*terraform.State) error {
			if _, ok := env.Mock.RepositoryFile(acctest.ProjectID, productionConfigPath); ok {
				return fmt.Errorf("destroy left %s", productionConfigPath)
			}
			return checkLastCommit(env, "Shipped by Terraform", "Platform Bot")(nil)
		},
		Steps: []resource.TestStep{
			{ // create, project as path
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "info", "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("file_path"), knownvalue.StringExact(productionConfigPath)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("id"), knownvalue.StringExact("20:production")),
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("branch"), knownvalue.StringExact("main")),
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("file_path"), knownvalue.StringExact(productionConfigPath)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFile(env, wantDocument("info")),
					checkLastCommit(env, "Add configuration of agent production (Terraform)", "Maintainer"),
					env.ExpectRequests("POST", "/api/v4/projects/20/repository/files/*", 1),
				),
			},
			{ // in-place update with a commit message and author
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug",
					`commit_message = "Shipped by Terraform"
  author_name = "Platform Bot"
  author_email = "bot@example.com"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentConfigResource, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFile(env, wantDocument("debug")),
					checkLastCommit(env, "Shipped by Terraform", "Platform Bot"),
					env.ExpectRequests("PUT", "/api/v4/projects/20/repository/files/*", 1),
					func(*terraform.State) error { commitsBeforeNoop = len(env.Mock.Commits(acctest.ProjectID)); return nil },
				),
			},
			{ // the same file written another way out of band: not a change
				PreConfig: pushConfig(env, acctest.ProjectID, `# tuned by hand
flux: {webhook_receiver_url: "http://receiver.flux-system"}
observability:
  logging:
    level: 'debug'     # louder
user_access:
  projects: [{id: root/test}]
  access_as: {agent: {}}
ci_access:
  groups:
  - id: root
  projects:
  - protected_branches_only: true
    environments: [production, "review/*"]
    access_as: {ci_job: {}}
    default_namespace: apps
    id: root/test
`),
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug",
					`commit_message = "Shipped by Terraform"
  author_name = "Platform Bot"
  author_email = "bot@example.com"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(s *terraform.State) error {
					if n := len(env.Mock.Commits(acctest.ProjectID)); n != commitsBeforeNoop+1 {
						return fmt.Errorf("%d commits, want only the out-of-band one after %d", n, commitsBeforeNoop)
					}
					last, _ := env.Mock.FileLastCommit(acctest.ProjectID, productionConfigPath)
					if got, _ := acctest.Attribute(s, agentConfigResource, "last_commit_id"); got != last.ID {
						return fmt.Errorf("last_commit_id = %s, want the out-of-band commit %s", got, last.ID)
					}
					return nil
				},
			},
			{ // a real change out of band: a diff, then the configuration restored
				PreConfig: pushConfig(env, acctest.ProjectID, "observability:\n  logging:\n    level: error\nci_access:\n  projects:\n  - id: root/other\n"),
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug",
					`commit_message = "Shipped by Terraform"
  author_name = "Platform Bot"
  author_email = "bot@example.com"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentConfigResource, plancheck.ResourceActionUpdate)},
				},
				Check: checkFile(env, wantDocument("debug")),
			},
			{ // the file deleted out of band: committed again
				PreConfig: func() {
					if _, err := env.Mock.PushFileDeletion(acctest.ProjectID, productionConfigPath, "root", ""); err != nil {
						panic(err)
					}
				},
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug",
					`commit_message = "Shipped by Terraform"
  author_name = "Platform Bot"
  author_email = "bot@example.com"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentConfigResource, plancheck.ResourceActionCreate)},
				},
				Check: checkFile(env, wantDocument("debug")),
			},
			{ // the project written as its ID: state only, no commit
				Config: env.Config(agentConfigHCL("20", "debug",
					`commit_message = "Shipped by Terraform"
  author_name = "Platform Bot"
  author_email = "bot@example.com"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(agentConfigResource, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("project"), knownvalue.StringExact("20")),
				},
				Check: env.ExpectRequests("PUT", "/api/v4/projects/20/repository/files/*", 2),
			},
			{
				ResourceName:      agentConfigResource,
				ImportState:       true,
				ImportStateId:     "root/test:production",
				ImportStateVerify: true,
				// additional_config is read back as canonical YAML, not as yamlencode() wrote it: ImportStateCheck
				// compares what it means.
				ImportStateVerifyIgnore: []string{"project", "commit_message", "author_name", "author_email", "additional_config"},
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					a := states[0].Attributes
					var extra map[string]any
					if err := yaml.Unmarshal([]byte(a["additional_config"]), &extra); err != nil {
						return err
					}
					if fmt.Sprint(extra) != fmt.Sprint(map[string]any{"flux": map[string]any{"webhook_receiver_url": "http://receiver.flux-system"}}) {
						return fmt.Errorf("imported additional_config = %q", a["additional_config"])
					}
					if a["project"] != "root/test" || a["ci_access.projects.0.access_as.ci_job.%"] != "0" || a["observability.logging.level"] != "debug" {
						return fmt.Errorf("imported state %v", a)
					}
					return nil
				},
			},
			{
				ResourceName:            agentConfigResource,
				ImportState:             true,
				ImportStateId:           "20:production",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"commit_message", "author_name", "author_email", "additional_config"},
			},
		},
	})
}

func TestAccClusterAgentConfig_concurrentEditIsNotOverwritten(t *testing.T) {
	env := acctest.New(t)
	colleague := "observability:\n  logging:\n    level: warn\n"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: env.Config(agentConfigHCL(acctest.ProjectPath, "info", ""))},
			{
				// A colleague commits between the refresh and the apply.
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug", "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{outOfBand(func() error {
						_, err := env.Mock.PushFile(acctest.ProjectID, productionConfigPath, []byte(colleague), "developer", "Quieter logs")
						return err
					})},
				},
				ExpectError: acctest.ErrorRegexp("changed since the last refresh", "was changed by another commit after it was last read",
					"nothing was written", "Run `terraform plan` again"),
			},
			{
				// Nothing was overwritten; the next plan shows the change, and the apply restores the configuration.
				PreConfig: func() {
					if got, _ := env.Mock.RepositoryFile(acctest.ProjectID, productionConfigPath); string(got) != colleague {
						panic(fmt.Sprintf("the colleague's commit was overwritten: %q", got))
					}
				},
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "debug", "")),
				Check:  checkFile(env, wantDocument("debug")),
			},
		},
	})
}

func TestAccClusterAgentConfig_existingFileIsNotOverwritten(t *testing.T) {
	env := acctest.New(t)
	if _, err := env.Mock.PushFile(acctest.NestedProjectID, productionConfigPath, []byte("ci_access: {}\n"), "maintainer", ""); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.Config(`
resource "gitlabagent_cluster_agent_config" "test" {
  project    = "infra/platform/clusters"
  agent_name = "production"
}
`),
			ExpectError: acctest.ErrorRegexp("configuration file already exists", "it was not changed",
				"terraform import <address of this gitlabagent_cluster_agent_config> 'infra/platform/clusters:production'"),
		}},
	})
	if got, _ := env.Mock.RepositoryFile(acctest.NestedProjectID, productionConfigPath); string(got) != "ci_access: {}\n" {
		t.Errorf("the existing file was changed: %q", got)
	}
}

func TestAccClusterAgentConfig_protectedBranchAndPermissions(t *testing.T) {
	env := acctest.New(t)
	minimal := `
resource "gitlabagent_cluster_agent_config" "test" {
  project    = "root/test"
  agent_name = "production"
  observability = { logging = { level = "info" } }
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{ // a Developer may not push to the protected default branch
				Config: env.ProviderBlock(acctest.DeveloperToken) + minimal,
				ExpectError: acctest.ErrorRegexp(`may not push to branch "main"`, "protected branch",
					"only Maintainers may push", "Maintainer role"),
			},
			{ // a Reporter may not read the repository's files to commit them
				Config:      env.ProviderBlock(acctest.ReporterToken) + minimal,
				ExpectError: acctest.ErrorRegexp("may not commit to the repository of project 20 (403 Forbidden)", "Developer role"),
			},
			{ // a non-member gets GitLab's 404 for the project
				Config:      env.ProviderBlock(acctest.OutsiderToken) + minimal,
				ExpectError: acctest.ErrorRegexp(`Project "root/test" was not found`),
			},
		},
	})
	if _, ok := env.Mock.RepositoryFile(acctest.ProjectID, productionConfigPath); ok {
		t.Error("a refused commit left a file")
	}
	if n := len(env.Mock.Commits(acctest.ProjectID)); n != 1 {
		t.Errorf("%d commits, want only the initial one", n)
	}
}

func TestAccClusterAgentConfig_protectedBranchAllowingDevelopers(t *testing.T) {
	env := acctest.New(t)
	if err := env.Mock.SetBranchProtection(acctest.ProjectID, "main", "developer"); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{{
			Config: env.ProviderBlock(acctest.DeveloperToken) + agentConfigHCL(acctest.ProjectPath, "info", ""),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkFile(env, wantDocument("info")),
				checkLastCommit(env, "Add configuration of agent production (Terraform)", "Developer"),
			),
		}},
	})
}

func TestAccClusterAgentConfig_destroyKeepsAFileChangedSinceRefresh(t *testing.T) {
	env := acctest.New(t)
	colleague := "observability:\n  logging:\n    level: warn\n"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: env.Config(agentConfigHCL(acctest.ProjectPath, "info", ""))},
			{
				Config:  env.Config(agentConfigHCL(acctest.ProjectPath, "info", "")),
				Destroy: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{outOfBand(func() error {
						_, err := env.Mock.PushFile(acctest.ProjectID, productionConfigPath, []byte(colleague), "developer", "Quieter logs")
						return err
					})},
				},
				ExpectError: acctest.ErrorRegexp("changed since the last refresh", "It was not deleted", "Run the destroy again"),
			},
			{
				// The destroy's refresh reads the change; this time the file is deleted.
				Config:  env.Config(agentConfigHCL(acctest.ProjectPath, "info", "")),
				Destroy: true,
				Check: func(*terraform.State) error {
					if _, ok := env.Mock.RepositoryFile(acctest.ProjectID, productionConfigPath); ok {
						return fmt.Errorf("%s was not deleted", productionConfigPath)
					}
					return checkLastCommit(env, "Remove configuration of agent production (Terraform)", "Maintainer")(nil)
				},
			},
		},
	})
}

// TestAccClusterAgentConfig_planTimeChecks plans configurations GitLab's agent server would reject (or
// GitLab would quietly cut short); each fails at plan time without a request to GitLab.
func TestAccClusterAgentConfig_planTimeChecks(t *testing.T) {
	env := acctest.New(t)
	config := func(body string) string {
		return env.Config(`
resource "gitlabagent_cluster_agent_config" "test" {
  project    = "root/test"
  agent_name = "production"
` + body + `
}
`)
	}
	steps := []struct {
		body string
		want []string
	}{
		{`additional_config = yamlencode({ fluxx = { webhook_receiver_url = "x" } })`,
			[]string{"Unknown key in the agent configuration", `"fluxx" is not a key`, "reject the whole file"}},
		{`additional_config = yamlencode({ ci_access = { projects = [{ id = "root/test", access_as = { agent = {} }, namespace = "x" }] } })`,
			[]string{"Unknown key", `"namespace" is not a key GitLab's agent server knows under ci_access.projects[0]`}},
		{`ci_access = { projects = [{ id = "root/test", access_as = {} }] }`,
			[]string{"access_as is empty", "ci_access.projects[0].access_as must set exactly one of agent, impersonate, ci_job"}},
		{`ci_access = { groups = [{ id = "root", access_as = { agent = {}, ci_job = {} } }] }`,
			[]string{"access_as sets more than one choice", "sets agent and ci_job"}},
		{`user_access = { access_as = {}, projects = [{ id = "root/test" }] }`,
			[]string{"access_as is empty", "user_access.access_as must set exactly one of agent, user"}},
		{`ci_access = { projects = [{ id = "" }] }`,
			[]string{"Empty id", "ci_access.projects[0].id is empty"}},
		{`user_access = { access_as = { agent = {} }, groups = [{ id = " " }] }`,
			[]string{"Empty id", "user_access.groups[0].id is empty"}},
		{`ci_access = { projects = [for i in range(501) : { id = "root/p${i}" }] }`,
			[]string{"Too many entries", "ci_access.projects has 501 entries; GitLab authorizes only the first 500"}},
		{`additional_config = yamlencode({ gitops = { manifest_projects = [{ id = "root/test" }] } })`,
			[]string{"gitops.manifest_projects was removed", "Deploy with Flux instead"}},
		{`additional_config = yamlencode({ remote_development = { dns_zone = format("%0140000d", 0) } })`,
			[]string{"Agent configuration too large", "at most 131072 bytes"}},
		{`observability = { logging = { level = "debug" } }
  additional_config = yamlencode({ observability = { logging = { level = "info" } } })`,
			[]string{"Key set twice", "observability.logging.level is set both by a typed attribute and in additional_config"}},
		{`additional_config = "- just\n- a list\n"`,
			[]string{"Invalid additional_config", "not a mapping"}},
		{`observability = { logging = { grpc_level = "verbose" } }`,
			[]string{"observability.logging.grpc_level", "value must be one of"}},
		{`ci_access = { projects = [{ id = "root/test", access_as = { impersonate = { username = "", extra = [{ key = "k", val = [] }] } } }] }`,
			[]string{"Missing username", "Missing values"}},
	}
	var testSteps []resource.TestStep
	for _, s := range steps {
		testSteps = append(testSteps, resource.TestStep{
			Config:      config(s.body),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp(s.want...),
		})
	}
	testSteps = append(testSteps, resource.TestStep{
		Config: env.Config(`
resource "gitlabagent_cluster_agent_config" "test" {
  project    = "root/test"
  agent_name = "Production_1"
}
`),
		PlanOnly:    true,
		ExpectError: acctest.ErrorRegexp("Invalid agent name", "lowercase letters"),
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps:                    testSteps,
	})
	if reqs := env.Mock.Requests(); len(reqs) != 0 {
		t.Errorf("plan-time checks sent requests to GitLab: %+v", reqs)
	}
}

// TestClusterAgentConfig_warnsAboutEntriesGitLabDrops validates configurations with entries outside the
// project's top-level group, which GitLab drops without a word: a warning names each, with no request.
func TestClusterAgentConfig_warnsAboutEntriesGitLabDrops(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	diags := p.ValidateResourceConfig("gitlabagent_cluster_agent_config", map[string]any{
		"project":    "infra/platform/clusters",
		"agent_name": "production",
		"ci_access": map[string]any{
			"projects": []any{map[string]any{"id": "infra/apps/web"}, map[string]any{"id": "other/apps/web"}},
			"groups":   []any{map[string]any{"id": "Infra/platform"}},
			"instance": map[string]any{},
		},
		"additional_config": "user_access:\n  access_as: {agent: {}}\n  groups:\n  - id: elsewhere\n",
	})
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("errors: %s", errs)
	}
	warnings := acctest.Warnings(diags)
	for _, want := range []string{
		`ci_access.projects[1].id is "other/apps/web", outside "infra"`,
		`In additional_config: user_access.groups[0].id is "elsewhere", outside "infra"`,
		"organization_cluster_agent_authorization_enabled",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	for _, inside := range []string{"infra/apps/web", "Infra/platform"} {
		if strings.Contains(warnings, inside) {
			t.Errorf("%s is in the project's top-level group, yet warned about:\n%s", inside, warnings)
		}
	}
	if n := strings.Count(warnings, "outside \"infra\""); n != 2 {
		t.Errorf("%d entries warned about, want 2:\n%s", n, warnings)
	}

	// A project given by ID has no path to compare with at plan time: no warning, and no request.
	diags = p.ValidateResourceConfig("gitlabagent_cluster_agent_config", map[string]any{
		"project": "21", "agent_name": "production",
		"ci_access": map[string]any{"projects": []any{map[string]any{"id": "other/apps/web"}}, "instance": map[string]any{}},
	})
	if w := acctest.Warnings(diags); strings.Contains(w, "outside") || !strings.Contains(w, "organization_cluster_agent_authorization_enabled") {
		t.Errorf("warnings with the project given by ID: %s", w)
	}
	if reqs := env.Mock.Requests(); len(reqs) != 0 {
		t.Errorf("validation sent requests: %+v", reqs)
	}
}

// Terraform 1.12 and later: the configuration file's identity is its project's ID and the agent's name.
func TestClusterAgentConfig_identity(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	const typeName = "gitlabagent_cluster_agent_config"
	if _, err := env.Mock.PushFile(acctest.ProjectID, productionConfigPath, []byte("observability:\n  logging: {level: warn}\n"), "root", ""); err != nil {
		t.Fatal(err)
	}
	want := acctest.Value(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"project_id": tftypes.Number, "agent_name": tftypes.String}},
		map[string]any{"project_id": 20, "agent_name": "production"})

	state, private, _, diags := p.ImportByIdentityValues(typeName, map[string]any{"project_id": 20, "agent_name": "production"})
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("import by identity: %s", errs)
	}
	if got := acctest.Attr(state, "project"); !got.Equal(str("20")) {
		t.Errorf("imported project = %v, want \"20\"", got)
	}
	state, identity, diags := p.ReadIdentityValues(typeName, state, private, map[string]any{"project_id": 20, "agent_name": "production"})
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("read: %s", errs)
	}
	if !identity.Equal(want) {
		t.Errorf("identity after read = %v, want %v", identity, want)
	}
	if got := acctest.Attr(acctest.Attr(acctest.Attr(state, "observability"), "logging"), "level"); !got.Equal(str("warn")) {
		t.Errorf("imported observability.logging.level = %v", got)
	}

	state, private, diags = p.Import(typeName, "root/test:production")
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("import by ID: %s", errs)
	}
	_, identity, diags = p.ReadIdentityValues(typeName, state, private, nil)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatalf("read after import by ID: %s", errs)
	}
	if !identity.Equal(want) {
		t.Errorf("identity after import by ID = %v, want %v", identity, want)
	}

	// Bad import IDs are refused before any request.
	env.Mock.ResetRequests()
	for _, id := range []string{"root/test", "root/test:Production", ":production"} {
		if _, _, diags := p.Import(typeName, id); !strings.Contains(acctest.Errors(diags), "Invalid import ID") {
			t.Errorf("import %q: %s", id, acctest.Errors(diags))
		}
	}
	// Identities whose project_id is no GitLab ID are refused as for the other resources, naming the field.
	huge, _, _ := big.ParseFloat("1e30", 10, 256, big.ToNearestEven)
	for _, projectID := range []any{1.5, huge, -3} {
		_, _, _, diags := p.ImportByIdentityValues(typeName, map[string]any{"project_id": projectID, "agent_name": "production"})
		got := acctest.Errors(diags)
		want := acctest.ErrorRegexp("Invalid import identity", "The identity's project_id is",
			"a whole number from 1 to 9223372036854775807", `identity = { project_id = 20, agent_name = "production" }`)
		if !want.MatchString(got) || strings.Contains(got, "always an error in the provider") {
			t.Errorf("identity with project_id %v: got %q, want %s", projectID, got, want)
		}
	}
	if n := len(env.Mock.Requests()); n != 0 {
		t.Errorf("bad import IDs and identities sent %d requests", n)
	}

	// A file gone is removed from state, with its identity still answered.
	if _, err := env.Mock.PushFileDeletion(acctest.ProjectID, productionConfigPath, "root", ""); err != nil {
		t.Fatal(err)
	}
	state, _, diags = p.ReadIdentityValues(typeName, state, private, nil)
	if !state.IsNull() || !strings.Contains(acctest.Warnings(diags), "no longer exists") {
		t.Errorf("read of a deleted file: state %v, diagnostics %s", state, acctest.Warnings(diags))
	}
}

// A 404 that may mean "not allowed" never removes the file from state: only GitLab's 404 for the file
// itself, which it answers after checking that the caller may read the repository, does.
func TestClusterAgentConfig_keptWhenNotVisible(t *testing.T) {
	env := acctest.NewMock(t)
	const typeName = "gitlabagent_cluster_agent_config"
	if _, err := env.Mock.PushFile(acctest.ProjectID, productionConfigPath, []byte("observability: {}\n"), "root", ""); err != nil {
		t.Fatal(err)
	}
	state, private, diags := env.Protocol(t, acctest.MaintainerToken).Import(typeName, "root/test:production")
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	for _, token := range []string{acctest.OutsiderToken, acctest.ReporterToken} {
		if token == acctest.ReporterToken {
			if err := env.Mock.SetMember(acctest.ProjectID, "reporter", "guest"); err != nil {
				t.Fatal(err)
			}
		}
		newState, _, diags := env.Protocol(t, token).Read(typeName, state, private)
		if newState.IsNull() || acctest.Errors(diags) == "" {
			t.Errorf("read with %s: state removed or no error (%s)", token, acctest.Errors(diags))
		}
	}
	// The project's 404, or a 404 from something that is not GitLab's Files API, for the file itself.
	for _, body := range []string{`{"message":"404 Project Not Found"}`, `{"error":"404 Not Found"}`, "<html>Not Found</html>"} {
		env.Mock.InjectFault(mockgitlab.Fault{Method: "GET", Pattern: "/api/v4/projects/20/repository/files/*", Status: 404, Body: body})
		newState, _, diags := env.Protocol(t, acctest.MaintainerToken).Read(typeName, state, private)
		if newState.IsNull() || acctest.Errors(diags) == "" {
			t.Errorf("a 404 %s for the file removed it from state (%s)", body, acctest.Errors(diags))
		}
	}
}

// In an empty repository the first commit creates the default branch; GitLab lets only Maintainers push
// it under its default branch protection.
func TestAccClusterAgentConfig_emptyRepository(t *testing.T) {
	seed := mockgitlab.DefaultSeed()
	seed.Projects[0].EmptyRepository = true
	env := acctest.NewWithSeed(t, seed)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:      env.ProviderBlock(acctest.DeveloperToken) + agentConfigHCL(acctest.ProjectPath, "info", ""),
				ExpectError: acctest.ErrorRegexp(`may not push to branch "main"`),
			},
			{
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "info", "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFile(env, wantDocument("info")),
					func(*terraform.State) error {
						if n := len(env.Mock.Commits(acctest.ProjectID)); n != 1 {
							return fmt.Errorf("%d commits on main, want the one that created it", n)
						}
						return nil
					},
				),
			},
		},
	})
}

// Read back, a file says in the typed attributes what they can hold exactly, and the rest goes to
// additional_config, so that nothing a colleague added escapes the next plan.
func TestClusterAgentConfig_readSplitsTheFile(t *testing.T) {
	env := acctest.NewMock(t)
	const typeName = "gitlabagent_cluster_agent_config"
	file := `ci_access:
  projects:
  - id: root/test
    surprise: true
  groups:
  - id: root
observability:
  logging: {level: debug}
  google_profiler: {enabled: true}
remote_development: {enabled: true}
`
	if _, err := env.Mock.PushFile(acctest.ProjectID, productionConfigPath, []byte(file), "root", ""); err != nil {
		t.Fatal(err)
	}
	p := env.Protocol(t, acctest.MaintainerToken)
	state, private, diags := p.Import(typeName, "root/test:production")
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	state, _, diags = p.Read(typeName, state, private)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	ci := acctest.Attr(state, "ci_access")
	if got := acctest.Attr(ci, "projects"); !got.IsNull() {
		t.Errorf("ci_access.projects holds a key it has no attribute for, yet was read as typed: %v", got)
	}
	if got := acctest.Attr(ci, "groups"); got.IsNull() {
		t.Error("ci_access.groups was not read into the typed attribute")
	}
	if got := acctest.Attr(acctest.Attr(acctest.Attr(state, "observability"), "logging"), "level"); !got.Equal(str("debug")) {
		t.Errorf("observability.logging.level = %v", got)
	}
	var extra string
	if err := acctest.Attr(state, "additional_config").As(&extra); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(extra), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"ci_access":          map[string]any{"projects": []any{map[string]any{"id": "root/test", "surprise": true}}},
		"observability":      map[string]any{"google_profiler": map[string]any{"enabled": true}},
		"remote_development": map[string]any{"enabled": true},
	}
	if fmt.Sprint(doc) != fmt.Sprint(want) {
		t.Errorf("additional_config = %s\nwant %v", extra, want)
	}
}

// Values known only after apply (an id from another resource, additional_config from another
// resource's output) are checked at apply, not refused at plan.
func TestClusterAgentConfig_unknownValuesAreNotRefused(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	diags := p.ValidateResourceConfig("gitlabagent_cluster_agent_config", map[string]any{
		"project":    acctest.Unknown,
		"agent_name": "production",
		"ci_access": map[string]any{
			"projects": []any{map[string]any{"id": acctest.Unknown, "access_as": acctest.Unknown}},
			"groups":   acctest.Unknown,
		},
		"user_access":       map[string]any{"access_as": map[string]any{"agent": acctest.Unknown}},
		"additional_config": acctest.Unknown,
	})
	if errs := acctest.Errors(diags); errs != "" {
		t.Errorf("unknown values refused: %s", errs)
	}
	// The known parts are still checked.
	diags = p.ValidateResourceConfig("gitlabagent_cluster_agent_config", map[string]any{
		"project": "root/test", "agent_name": "production",
		"ci_access":         map[string]any{"projects": []any{map[string]any{"id": acctest.Unknown}, map[string]any{"id": ""}}},
		"additional_config": acctest.Unknown,
	})
	if errs := acctest.Errors(diags); !strings.Contains(errs, "ci_access.projects[1].id is empty") {
		t.Errorf("an empty id beside an unknown one: %q", errs)
	}
}

func TestClusterAgentConfig_manyEntriesOutsideTheGroupAreCounted(t *testing.T) {
	env := acctest.NewMock(t)
	p := env.Protocol(t, acctest.MaintainerToken)
	var projects []any
	for i := range 40 {
		projects = append(projects, map[string]any{"id": fmt.Sprintf("other/p%d", i)})
	}
	warnings := acctest.Warnings(p.ValidateResourceConfig("gitlabagent_cluster_agent_config", map[string]any{
		"project": "root/test", "agent_name": "production", "ci_access": map[string]any{"projects": projects},
	}))
	if n := strings.Count(warnings, "GitLab authorizes only projects and groups in the same top-level group"); n != 5 {
		t.Errorf("%d entries warned about one by one, want 5:\n%s", n, warnings)
	}
	if !strings.Contains(warnings, "ci_access.projects has 35 more entries outside \"root\"") {
		t.Errorf("no count of the others:\n%s", warnings)
	}
}
