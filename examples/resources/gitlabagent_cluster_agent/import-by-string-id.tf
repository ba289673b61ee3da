# The ID is "<project>:<agent_id>", the project as its full path or numeric ID.
import {
  to = gitlabagent_cluster_agent.example
  id = "root/test:42"
}

resource "gitlabagent_cluster_agent" "example" {
  project = "root/test"
  name    = "production"
}
