# Terraform 1.12 and later (OpenTofu 1.12 and later): the identity names the token by
# numeric IDs. As with any import, `token` stays null: GitLab shows a token's secret only
# when the token is created.
import {
  to = gitlabagent_cluster_agent_token.agentk
  identity = {
    project_id = 20
    agent_id   = 42
    token_id   = 7
  }
}

resource "gitlabagent_cluster_agent_token" "agentk" {
  project  = "20"
  agent_id = 42
  name     = "agentk"
}
