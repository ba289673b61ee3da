resource "gitlabagent_cluster_agent" "edge" {
  project = "root/test"
  name    = "edge"
}

resource "gitlabagent_cluster_agent_url_configuration" "edge" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.edge.agent_id
  url      = "grpcs://agent.edge.example.com:4242"
}

# The agent's URL configurations: none, or the one that makes it receptive.
data "gitlabagent_cluster_agent_url_configurations" "edge" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent_url_configuration.edge.agent_id
}

output "edge_url_configuration_ids" {
  value = [for c in data.gitlabagent_cluster_agent_url_configurations.edge.url_configurations : c.url_configuration_id]
}
