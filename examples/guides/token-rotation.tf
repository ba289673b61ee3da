resource "gitlabagent_cluster_agent" "production" {
  project = "platform/clusters"
  name    = "production"
}

resource "gitlabagent_cluster_agent_token" "production" {
  project     = gitlabagent_cluster_agent.production.project
  agent_id    = gitlabagent_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in the production cluster"

  # Replaced at the first plan after the token is 30 days old.
  rotate_after = "720h"

  # Change any value to rotate the token at the next apply.
  rotation_triggers = {
    generation = "1"
  }

  lifecycle {
    # The new token is created, and handed to the cluster, before the old
    # one is revoked.
    create_before_destroy = true
  }
}

# Where agentk connects to: GitLab's agent server (KAS).
data "gitlabagent_kas" "this" {}

# agentk, installed with GitLab's Helm chart (Helm provider 3.x). When the
# token is replaced, the release is upgraded with the new secret (Helm waits
# for the rollout) before Terraform revokes the old token.
resource "helm_release" "agentk" {
  name             = "gitlab-agent"
  repository       = "https://charts.gitlab.io"
  chart            = "gitlab-agent"
  namespace        = "gitlab-agent"
  create_namespace = true

  set = [{
    name  = "config.kasAddress"
    value = data.gitlabagent_kas.this.external_url
  }]

  # Write-only (Helm provider 3.x): the token never reaches the release's
  # state. A new token has a new ID, so a rotation upgrades the release.
  set_wo = [{
    name  = "config.token"
    value = gitlabagent_cluster_agent_token.production.token
  }]
  set_wo_revision = gitlabagent_cluster_agent_token.production.token_id
}
