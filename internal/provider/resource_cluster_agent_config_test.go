package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"sigs.k8s.io/yaml"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
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
func checkFile(env *acctest.Env, projectID int64, want map[string]any) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		content, ok := env.Mock.RepositoryFile(projectID, productionConfigPath)
		if !ok {
			return fmt.Errorf("%s is not in project %d", productionConfigPath, projectID)
		}
		if !strings.HasPrefix(string(content), "# Managed by Terraform") {
			return fmt.Errorf("the file has no header saying Terraform manages it:\n%s", content)
		}
		var got map[string]any
		if err := yaml.Unmarshal(content, &got); err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("file holds\n%s\nwant %v", content, want)
		}
		last, _ := env.Mock.FileLastCommit(projectID, productionConfigPath)
		if got, err := acctest.Attribute(s, agentConfigResource, "last_commit_id"); err != nil || got != last.ID {
			return fmt.Errorf("last_commit_id = %q (%v), want the file's last commit %s", got, err, last.ID)
		}
		return nil
	}
}

// checkLastCommit checks the message and author of the newest commit of the project.
func checkLastCommit(env *acctest.Env, projectID int64, message, authorName string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c := env.Mock.Commits(projectID)[0]
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
			return checkLastCommit(env, acctest.ProjectID, "Shipped by Terraform", "Platform Bot")(nil)
		},
		Steps: []resource.TestStep{
			{ // create, project as path
				Config: env.Config(agentConfigHCL(acctest.ProjectPath, "info", "")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("id"), knownvalue.StringExact("20:production")),
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("branch"), knownvalue.StringExact("main")),
					statecheck.ExpectKnownValue(agentConfigResource, tfjsonpath.New("file_path"), knownvalue.StringExact(productionConfigPath)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFile(env, acctest.ProjectID, wantDocument("info")),
					checkLastCommit(env, acctest.ProjectID, "Add configuration of agent production (Terraform)", "Maintainer"),
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
					checkFile(env, acctest.ProjectID, wantDocument("debug")),
					checkLastCommit(env, acctest.ProjectID, "Shipped by Terraform", "Platform Bot"),
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
				Check: checkFile(env, acctest.ProjectID, wantDocument("debug")),
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
				Check: checkFile(env, acctest.ProjectID, wantDocument("debug")),
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
