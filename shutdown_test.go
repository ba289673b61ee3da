package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// TestAccShutdownRevokesUnclosedKubernetesAccess runs the provider binary as Terraform runs it, in a
// plan whose kubernetes stand-in is refused by the cluster. Terraform then skips closing the ephemeral
// resource (a consumer failed), so the token is not revoked at close; it must be revoked all the same
// when Terraform stops the provider at the end of the run, which main does after serving.
func TestAccShutdownRevokesUnclosedKubernetesAccess(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs a terraform binary: set TF_ACC=1")
	}
	t.Parallel()
	env := acctest.New(t)
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, "cluster", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	env.AllowKubernetesAccess(t, agent.ID)

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-gitlabagent"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cliConfig := filepath.Join(dir, "dev.tfrc")
	if err := os.WriteFile(cliConfig, []byte(`provider_installation {
  dev_overrides {
    "gitlabagent/gitlabagent" = "`+bin+`"
  }
  direct {}
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	config := `
terraform {
  required_providers {
    gitlabagent = {
      source = "gitlabagent/gitlabagent"
    }
    k8sprobe = {
      source = "` + acctest.ProviderHost() + `/gitlabagent/k8sprobe"
    }
  }
}
` + env.ProviderBlock(acctest.OutsiderToken) + `
ephemeral "gitlabagent_cluster_agent_kubernetes_access" "cluster" {
  project  = "root/test"
  agent_id = ` + strconv.FormatInt(agent.ID, 10) + `
}

provider "k8sprobe" {
  host  = ephemeral.gitlabagent_cluster_agent_kubernetes_access.cluster.host
  token = ephemeral.gitlabagent_cluster_agent_kubernetes_access.cluster.token
}

data "k8sprobe_namespaces" "cluster" {}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	probe := acctest.NewKubernetesProbe()
	reattach := acctest.ServeProvidersInProcess(t, map[string]func() (tfprotov6.ProviderServer, error){"k8sprobe": probe.Factory()})
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "plan", "-input=false", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_REATTACH_PROVIDERS="+reattach, "TF_IN_AUTOMATION=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the cluster answered 401") {
		t.Fatalf("the plan did not fail as the cluster refused the user (%v); its output is %d bytes", err, len(out))
	}
	pats := env.Mock.PersonalAccessTokens()
	if len(pats) == 0 {
		t.Fatal("no token was created")
	}
	for _, pat := range pats {
		if pat.State != "revoked" {
			t.Errorf("token %d is %s after the run, want revoked when Terraform stopped the provider", pat.ID, pat.State)
		}
		if strings.Contains(string(out), pat.Token[len("glpat-"):]) {
			t.Errorf("token %d is in terraform's output", pat.ID)
		}
	}
}
