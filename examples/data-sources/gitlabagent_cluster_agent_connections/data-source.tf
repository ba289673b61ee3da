data "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

# The agentk pods connected for the agent, waiting up to 3 minutes for the
# first one. Right after installing agentk in the same apply, add
# depends_on = [helm_release.gitlab_agent] so that it waits during the apply.
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
