data "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

# The agentk pods connected for the agent, waiting up to 3 minutes for the
# first one (e.g. right after installing agentk in the same apply).
data "gitlabagent_cluster_agent_connections" "production" {
  project             = "root/test"
  agent_id            = data.gitlabagent_cluster_agent.production.agent_id
  wait_for_connection = "3m"
}

output "agentk" {
  value = {
    connected = data.gitlabagent_cluster_agent_connections.production.connected
    pods = [
      for c in data.gitlabagent_cluster_agent_connections.production.connections :
      "${c.pod_namespace}/${c.pod_name} (agentk ${c.version}, since ${c.connected_at})"
    ]
  }
}
