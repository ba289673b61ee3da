package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// The guide "Bootstrap a cluster in one apply" (examples/guides/bootstrap-cluster.tf) applied against
// the mock, but for what needs Helm or a cluster: the terraform and provider blocks (the test has its
// own), the helm_release and what refers to it. Where the Helm release would install agentk, the test
// plays agentk: it connects the agent once its token exists, while the guide's check block waits.

// topLevelBlock matches the first line of a top-level block of a terraform fmt-ed file.
func topLevelBlock(header string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(header) + `[^\n]*(?:\{\}\n|\{\n(?:[^\n]*\n)*?\}\n)`)
}

// withoutBlocks removes the top-level blocks starting with the headers, and every line that
// mentions one of refs.
func withoutBlocks(hcl string, headers, refs []string) string {
	for _, h := range headers {
		hcl = topLevelBlock(h).ReplaceAllString(hcl, "")
	}
	var kept []string
	for _, line := range strings.Split(hcl, "\n") {
		drop := false
		for _, r := range refs {
			drop = drop || strings.Contains(line, r)
		}
		if !drop {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// providerHasResource reports whether the provider has a resource type.
func providerHasResource(t *testing.T, typeName string) bool {
	t.Helper()
	resp, err := provider.NewServer(provider.New("test")())().GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, ok := resp.ResourceSchemas[typeName]
	return ok
}

func TestAccGuideBootstrapCluster(t *testing.T) {
	env := acctest.New(t)
	guide := readExample(t, "guides/bootstrap-cluster.tf")
	for _, want := range []string{`resource "helm_release"`, "set_wo = [", "set_wo_revision = gitlabagent_cluster_agent_token.production.token_id",
		`version = "~> 3.0"`, `check "agent_connected"`, `data "gitlabagent_kas"`, "data.gitlabagent_kas.this.external_url"} {
		if !strings.Contains(guide, want) {
			t.Fatalf("the guide lacks %q", want)
		}
	}
	headers := []string{"terraform", `provider "gitlabagent"`, `provider "helm"`, `resource "helm_release"`}
	refs := []string{"helm_release."}
	if !providerHasResource(t, "gitlabagent_cluster_agent_config") {
		headers = append(headers, `resource "gitlabagent_cluster_agent_config"`)
		refs = append(refs, "gitlabagent_cluster_agent_config.")
	}
	hcl := withoutBlocks(guide, headers, refs)
	hcl = strings.NewReplacer(`"platform/clusters"`, `"root/test"`, `"platform/`, `"root/`).Replace(hcl)
	for _, gone := range []string{"helm", "provider "} {
		if strings.Contains(hcl, gone) {
			t.Fatalf("the guide's Helm part was not taken out (%q left):\n%s", gone, hcl)
		}
	}
	if !strings.Contains(hcl, `check "agent_connected"`) || !strings.Contains(hcl, `resource "gitlabagent_cluster_agent_token"`) {
		t.Fatalf("too much was taken out of the guide:\n%s", hcl)
	}

	// agentk: connects once the agent has a token.
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	connected := make(chan int64, 1)
	go func() {
		for ctx.Err() == nil {
			for _, a := range env.Mock.Agents(acctest.ProjectID) {
				if a.Name == "production" && len(env.Mock.ActiveTokens(a.ID)) > 0 {
					if _, err := env.Mock.ConnectAgent(a.ID, mockgitlab.AgentConnection{PodName: "gitlab-agent-production-0"}); err == nil {
						connected <- a.ID
					}
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	kasAddress := "ws://" + mockHost(env) + "/-/kubernetes-agent/"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{{
			Config: env.Config(hcl),
			// Terraform plans every read of a check block's data source for the apply ("config will be
			// reloaded to verify a check block"), so the plan after the apply is never empty.
			ExpectNonEmptyPlan: true,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("kas_address", knownvalue.StringExact(kasAddress)),
			},
			Check: func(s *terraform.State) error {
				var agentID int64
				select {
				case agentID = <-connected:
				default:
					return fmt.Errorf("agentk never connected: the token was not created")
				}
				if n := env.Mock.CountRequests(http.MethodPost, "/api/graphql"); n == 0 {
					return fmt.Errorf("the check block never asked GitLab for the connections")
				}
				rs := s.RootModule().Resources["data.gitlabagent_cluster_agent_connections.production"]
				if rs == nil {
					return fmt.Errorf("the check block's data source is not in state")
				}
				if got := rs.Primary.Attributes["connected"]; got != "true" {
					return fmt.Errorf("connected = %q after agentk connected", got)
				}
				if got := rs.Primary.Attributes["agent_id"]; got != fmt.Sprint(agentID) {
					return fmt.Errorf("the check read agent %s, agentk connected agent %d", got, agentID)
				}
				return nil
			},
		}},
		CheckDestroy: checkOnlySeedLeft(env, seeded{}),
	})
}
