resource "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

resource "gitlabagent_cluster_agent_token" "agentk" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent.production.agent_id
  name     = "agentk"
}

# The agent's active tokens (at most two), most recently used first; no secrets.
data "gitlabagent_cluster_agent_tokens" "production" {
  project  = "root/test"
  agent_id = gitlabagent_cluster_agent_token.agentk.agent_id
}

# Tokens no agent has ever connected with: candidates for revocation.
output "unused_token_ids" {
  value = [
    for t in data.gitlabagent_cluster_agent_tokens.production.tokens : t.token_id
    if t.last_used_at == null
  ]
}
