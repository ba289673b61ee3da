# An agent registered elsewhere (by hand, or by another configuration), looked
# up by name; `agent_id` works too.
data "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

# Give the agent a token from this configuration.
resource "gitlabagent_cluster_agent_token" "ci" {
  project  = data.gitlabagent_cluster_agent.production.project
  agent_id = data.gitlabagent_cluster_agent.production.agent_id
  name     = "ci-deployments"
}

output "production_agent_id" {
  value = data.gitlabagent_cluster_agent.production.agent_id
}
