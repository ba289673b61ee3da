# Step 1: move the agent and its token from the gitlab provider to this one,
# without changing anything in GitLab or in the cluster.

# Forget the gitlab provider's resources without destroying them
# (Terraform 1.7 and later); delete their resource blocks.
removed {
  from = gitlab_cluster_agent.production

  lifecycle {
    destroy = false
  }
}

removed {
  from = gitlab_cluster_agent_token.production

  lifecycle {
    destroy = false
  }
}

# Adopt the same objects, with the same import IDs as the gitlab provider's:
# "<project>:<agent_id>" and "<project>:<agent_id>:<token_id>".
import {
  to = gitlabagent_cluster_agent.production
  id = "platform/clusters:42"
}

import {
  to = gitlabagent_cluster_agent_token.production
  id = "platform/clusters:42:17"
}

resource "gitlabagent_cluster_agent" "production" {
  project = "platform/clusters"
  name    = "production"
}

# name and description as in GitLab: a difference would replace the token.
resource "gitlabagent_cluster_agent_token" "production" {
  project     = gitlabagent_cluster_agent.production.project
  agent_id    = gitlabagent_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in the production cluster"

  lifecycle {
    create_before_destroy = true
  }
}

resource "helm_release" "agentk" {
  name       = "gitlab-agent"
  repository = "https://charts.gitlab.io"
  chart      = "gitlab-agent"
  namespace  = "gitlab-agent"

  # Helm provider 3.x: set and set_sensitive are lists of objects.
  set = [{
    name  = "config.kasAddress"
    value = "wss://kas.gitlab.example.com"
  }]

  set_sensitive = [{
    name  = "config.token"
    value = gitlabagent_cluster_agent_token.production.token
  }]

  lifecycle {
    # Until step 2: the imported token has no secret in state, and the
    # cluster keeps the one it has.
    ignore_changes = [set_sensitive]
  }
}
