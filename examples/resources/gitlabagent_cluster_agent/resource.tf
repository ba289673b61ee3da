# Registers the agent "production" in the project root/test. Its configuration
# lives in that project's repository at .gitlab/agents/production/config.yaml.
resource "gitlabagent_cluster_agent" "example" {
  project = "root/test"
  name    = "production"
}

# The project is a full path, subgroups included, or a numeric ID.
resource "gitlabagent_cluster_agent" "staging" {
  project = "infra/platform/clusters"
  name    = "staging"
}

output "agent_ids" {
  value = {
    production = gitlabagent_cluster_agent.example.agent_id
    staging    = gitlabagent_cluster_agent.staging.agent_id
  }
}
