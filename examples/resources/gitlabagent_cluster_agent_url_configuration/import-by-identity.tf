# Terraform 1.12 and later (OpenTofu 1.12 and later): the identity names the URL
# configuration by numeric IDs.
import {
  to = gitlabagent_cluster_agent_url_configuration.production
  identity = {
    project_id           = 20
    agent_id             = 42
    url_configuration_id = 3
  }
}

resource "gitlabagent_cluster_agent_url_configuration" "production" {
  project  = "20"
  agent_id = 42
  url      = "grpcs://agent.example.com:4242"
}
