# The ID is "<project>:<agent_id>:<url_configuration_id>", the project as its full path or
# numeric ID. For an mTLS configuration, also set client_key (or client_key_wo): GitLab never
# returns it, and the first apply after the import records it without replacing anything.
import {
  to = gitlabagent_cluster_agent_url_configuration.production
  id = "root/test:42:3"
}

resource "gitlabagent_cluster_agent_url_configuration" "production" {
  project  = "root/test"
  agent_id = 42
  url      = "grpcs://agent.example.com:4242"
}
