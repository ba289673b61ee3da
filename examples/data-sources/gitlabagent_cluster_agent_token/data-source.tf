resource "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

resource "gitlabagent_cluster_agent_token" "agentk" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.production.agent_id
  name     = "agentk"
}

# One token by ID: its name, status and when it was created and last used.
# Never its secret, which GitLab shows only when the token is created.
data "gitlabagent_cluster_agent_token" "agentk" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent_token.agentk.agent_id
  token_id = gitlabagent_cluster_agent_token.agentk.token_id
}

output "agentk_token_last_used_at" {
  value = data.gitlabagent_cluster_agent_token.agentk.last_used_at
}
