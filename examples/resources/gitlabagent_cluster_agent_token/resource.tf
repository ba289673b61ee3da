resource "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

# The token agentk in the cluster connects with. It is replaced every 30 days;
# create_before_destroy creates the new token before the old one is revoked,
# so the cluster can switch over without losing its connection.
resource "gitlabagent_cluster_agent_token" "production" {
  project     = gitlabagent_cluster_agent.production.project
  agent_id    = gitlabagent_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in the production cluster"

  rotate_after = "720h"

  # Change a value to rotate the token now.
  rotation_triggers = {
    generation = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Hand the secret to whatever installs agentk, e.g. a Kubernetes secret:
#
# resource "kubernetes_secret_v1" "agentk_token" {
#   metadata {
#     name      = "gitlab-agent-token"
#     namespace = "gitlab-agent"
#   }
#   data = {
#     token = gitlabagent_cluster_agent_token.production.token
#   }
# }

output "agent_token" {
  value     = gitlabagent_cluster_agent_token.production.token
  sensitive = true
}
