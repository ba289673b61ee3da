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

# agentk, installed with GitLab's Helm chart. When the token is replaced, the
# release is upgraded with the new secret (Helm waits for the rollout) before
# Terraform revokes the old token.
resource "helm_release" "agentk" {
  name             = "gitlab-agent"
  repository       = "https://charts.gitlab.io"
  chart            = "gitlab-agent"
  namespace        = "gitlab-agent"
  create_namespace = true

  set {
    name  = "config.kasAddress"
    value = "wss://kas.gitlab.example.com"
  }

  set_sensitive {
    name  = "config.token"
    value = gitlabagent_cluster_agent_token.production.token
  }
}
