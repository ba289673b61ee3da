package provider_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// TestAccCLIOutputNeverShowsSecrets runs the terraform CLI itself, as a user
// does, against the provider served in process, and reads everything it
// prints: apply, a plan that rotates the token, the rotation, show, output
// and destroy.
// Neither the agent token's secret nor the URL configuration's client key may
// appear anywhere; "(sensitive value)" must, so that the check is not vacuous.
func TestAccCLIOutputNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	terraform := os.Getenv("TF_ACC_TERRAFORM_PATH")
	ca := acctest.NewCA(t, "cli-output-ca")
	client := ca.ClientCertificate(t, "gitlab-kas", acctest.ECDSAPKCS8)

	dir := t.TempDir()
	config := `
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

variable "client_key" {
  type      = string
  sensitive = true
}

resource "gitlabagent_cluster_agent" "cluster" {
  project = "root/test"
  name    = "cli-output"
}

resource "gitlabagent_cluster_agent_token" "cluster" {
  project  = gitlabagent_cluster_agent.cluster.project
  agent_id = gitlabagent_cluster_agent.cluster.agent_id
  name     = "agentk"

  lifecycle {
    create_before_destroy = true
  }
}

resource "gitlabagent_cluster_agent_url_configuration" "cluster" {
  project     = gitlabagent_cluster_agent.cluster.project
  agent_id    = gitlabagent_cluster_agent.cluster.agent_id
  url         = "grpcs://agent.example.com:4242"
  client_cert = ` + heredoc(client.CertPEM) + `
  client_key  = var.client_key
}

output "token" {
  value     = gitlabagent_cluster_agent_token.cluster.token
  sensitive = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	environment := append(os.Environ(),
		"TF_REATTACH_PROVIDERS="+acctest.ServeInProcess(t),
		"TF_IN_AUTOMATION=1",
		"TF_VAR_client_key="+client.KeyPEM,
	)
	var printed strings.Builder
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(terraform, append(args, "-no-color")...)
		cmd.Dir = dir
		cmd.Env = environment
		out, err := cmd.CombinedOutput()
		printed.Write(out)
		if err != nil {
			// Do not print the output: were the test to fail, it might be why.
			t.Fatalf("terraform %s failed: %v", strings.Join(args, " "), err)
		}
	}
	run("init", "-input=false")
	run("apply", "-auto-approve", "-input=false")
	run("plan", "-input=false", "-replace=gitlabagent_cluster_agent_token.cluster")
	run("apply", "-auto-approve", "-input=false", "-replace=gitlabagent_cluster_agent_token.cluster")
	run("show")
	run("output") // `terraform output token` would print the secret: that is asking for it

	agents := env.Mock.Agents(acctest.ProjectID)
	if len(agents) != 1 {
		t.Fatalf("the mock has %d agents, want 1", len(agents))
	}
	var secrets []string
	for id := int64(1); id <= 2; id++ {
		tok, ok := env.Mock.Token(id)
		if !ok || tok.AgentID != agents[0].ID || tok.Token == "" {
			t.Fatalf("token %d of the rotation is not in the mock", id)
		}
		secrets = append(secrets, tok.Token)
	}
	if cfg, ok := env.Mock.URLConfiguration(agents[0].ID); !ok || cfg.ClientKey == nil || *cfg.ClientKey != client.KeyPEM {
		t.Fatal("the mock did not receive the client key")
	}
	run("destroy", "-auto-approve", "-input=false")

	out := printed.String()
	for i, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("the secret of token %d appears in terraform's output", i+1)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(client.KeyPEM), "\n") {
		if !strings.HasPrefix(line, "-----") && strings.Contains(out, line) {
			t.Error("a line of the client key appears in terraform's output")
			break
		}
	}
	for _, want := range []string{"(sensitive value)", "token = <sensitive>", "Destroy complete!"} {
		if !strings.Contains(out, want) {
			t.Errorf("terraform's output lacks %q: the commands did not run as this test expects", want)
		}
	}
}

// heredoc renders a multi-line string as an HCL heredoc expression.
func heredoc(s string) string {
	return "<<-EOT\n" + strings.TrimRight(s, "\n") + "\nEOT\n"
}
