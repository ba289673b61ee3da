# Terraform 1.12 and later (OpenTofu 1.12 and later): the identity names the agent by
# numeric IDs. The project is then in state as its numeric ID: write it so, as here, and the
# import plans no change (written as its path, the next apply records the path in state).
import {
  to = gitlabagent_cluster_agent.example
  identity = {
    project_id = 20
    agent_id   = 42
  }
}

resource "gitlabagent_cluster_agent" "example" {
  project = "20"
  name    = "production"
}
