# The ID is "<project>:<agent_id>:<token_id>", the project as its full path or numeric ID.
# GitLab shows a token's secret only when the token is created, so `token` stays null
# after the import; the token keeps working for the clusters that have it.
import {
  to = gitlabagent_cluster_agent_token.agentk
  id = "root/test:42:7"
}

resource "gitlabagent_cluster_agent_token" "agentk" {
  project  = "root/test"
  agent_id = 42
  name     = "agentk"
}
