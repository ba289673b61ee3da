# Every agent registered in the project, in name order.
data "gitlabagent_cluster_agents" "all" {
  project = "root/test"
}

# Agent IDs by name, e.g. to hand out one token per agent.
output "agent_ids" {
  value = {
    for agent in data.gitlabagent_cluster_agents.all.cluster_agents : agent.name => agent.agent_id
  }
}

output "receptive_agents" {
  value = [
    for agent in data.gitlabagent_cluster_agents.all.cluster_agents : agent.name
    if agent.is_receptive == true
  ]
}
