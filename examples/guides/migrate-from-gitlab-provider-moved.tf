# In place of the gitlab provider's gitlab_cluster_agent and
# gitlab_cluster_agent_token blocks: the moved blocks hand their state over,
# the token's secret included (Terraform 1.8 and later, OpenTofu 1.10 and
# later). Nothing is created, revoked or changed in GitLab.
moved {
  from = gitlab_cluster_agent.production
  to   = gitlabagent_cluster_agent.production
}

moved {
  from = gitlab_cluster_agent_token.production
  to   = gitlabagent_cluster_agent_token.production
}

# project and name as they were: project written the same way (full path or
# numeric ID) keeps the plan empty.
resource "gitlabagent_cluster_agent" "production" {
  project = "platform/clusters"
  name    = "production"
}

# name and description as they were: GitLab cannot change a token, so a
# difference would replace it.
resource "gitlabagent_cluster_agent_token" "production" {
  project     = gitlabagent_cluster_agent.production.project
  agent_id    = gitlabagent_cluster_agent.production.agent_id
  name        = "agentk"
  description = "Token of agentk in the production cluster"

  lifecycle {
    create_before_destroy = true
  }
}

# What used gitlab_cluster_agent_token.production.token now reads the same
# secret from the new resource, e.g. a Helm release of agentk (Helm provider
# 3.x, write-only):
#
#   set_wo = [{
#     name  = "config.token"
#     value = gitlabagent_cluster_agent_token.production.token
#   }]
#   set_wo_revision = gitlabagent_cluster_agent_token.production.token_id
