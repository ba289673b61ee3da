terraform {
  # Write-only arguments (set_wo) need Terraform 1.11 or later.
  required_version = ">= 1.11"

  required_providers {
    gitlabagent = {
      source = "gitlabagent/gitlabagent"
    }
    helm = {
      source = "hashicorp/helm"
      # 3.x: set lists of objects, and the write-only set_wo.
      version = "~> 3.0"
    }
  }
}

# base_url and token come from GITLAB_BASE_URL and GITLAB_TOKEN.
provider "gitlabagent" {}

provider "helm" {
  kubernetes = {
    config_path = "~/.kube/config"
  }
}

# 1. The agent.
resource "gitlabagent_cluster_agent" "production" {
  project = "platform/clusters"
  name    = "production"
}

# 2. What it allows: its configuration file, .gitlab/agents/production/config.yaml.
resource "gitlabagent_cluster_agent_config" "production" {
  project    = gitlabagent_cluster_agent.production.project
  agent_name = gitlabagent_cluster_agent.production.name

  ci_access = {
    projects = [{ id = "platform/deployments" }]
  }
}

# 3. The token agentk connects with.
resource "gitlabagent_cluster_agent_token" "production" {
  project     = gitlabagent_cluster_agent.production.project
  agent_id    = gitlabagent_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in the production cluster"

  lifecycle {
    # A rotation creates the new token, and upgrades agentk with it, before
    # the old one is revoked.
    create_before_destroy = true
  }
}

# 4. Where agentk connects to: GitLab's agent server (KAS).
data "gitlabagent_kas" "this" {}

# 5. agentk, from GitLab's Helm chart.
resource "helm_release" "gitlab_agent" {
  name             = "gitlab-agent-production"
  repository       = "https://charts.gitlab.io"
  chart            = "gitlab-agent"
  namespace        = "gitlab-agent-production"
  create_namespace = true

  set = [{
    name  = "config.kasAddress"
    value = data.gitlabagent_kas.this.external_url
  }]

  # Write-only: the token goes to Helm and never into the release's state.
  set_wo = [{
    name  = "config.token"
    value = gitlabagent_cluster_agent_token.production.token
  }]
  # A new token has a new ID: a rotation upgrades the release with it.
  set_wo_revision = gitlabagent_cluster_agent_token.production.token_id

  lifecycle {
    precondition {
      condition     = data.gitlabagent_kas.this.enabled
      error_message = "The agent server (KAS) is disabled on this GitLab: no agent can connect until an administrator enables it."
    }
  }

  depends_on = [gitlabagent_cluster_agent_config.production]
}

# 6. Did agentk connect?
check "agent_connected" {
  data "gitlabagent_cluster_agent_connections" "production" {
    project             = gitlabagent_cluster_agent.production.project
    agent_id            = gitlabagent_cluster_agent.production.agent_id
    wait_for_connection = "5m"

    depends_on = [helm_release.gitlab_agent]
  }

  assert {
    condition     = data.gitlabagent_cluster_agent_connections.production.connected
    error_message = "agentk has not connected to ${coalesce(data.gitlabagent_kas.this.external_url, "KAS")}."
  }
}

output "kas_address" {
  description = "The address agentk connects to (config.kasAddress)."
  value       = data.gitlabagent_kas.this.external_url
}
