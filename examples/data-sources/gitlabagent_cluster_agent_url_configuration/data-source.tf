resource "gitlabagent_cluster_agent" "edge" {
  project = "root/test"
  name    = "edge"
}

resource "gitlabagent_cluster_agent_url_configuration" "edge" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.edge.agent_id
  url      = "grpcs://agent.edge.example.com:4242"
}

# One URL configuration by ID: where GitLab connects to the agent and how it
# authenticates. Never the client key, which GitLab does not return.
data "gitlabagent_cluster_agent_url_configuration" "edge" {
  project              = "root/test"
  agent_id             = gitlabagent_cluster_agent_url_configuration.edge.agent_id
  url_configuration_id = gitlabagent_cluster_agent_url_configuration.edge.url_configuration_id
}

output "edge_connection" {
  value = {
    url        = data.gitlabagent_cluster_agent_url_configuration.edge.url
    auth_type  = data.gitlabagent_cluster_agent_url_configuration.edge.auth_type
    public_key = data.gitlabagent_cluster_agent_url_configuration.edge.public_key
  }
}
