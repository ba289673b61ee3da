variable "cluster_id" {
  description = "ID of the Kubernetes cluster the agent runs in."
  type        = string
}

# Follows the cluster: a new cluster means a new value here.
resource "terraform_data" "cluster" {
  input = var.cluster_id
}

resource "gitlabagent_cluster_agent_token" "production" {
  project  = gitlabagent_cluster_agent.production.project
  agent_id = gitlabagent_cluster_agent.production.agent_id
  name     = "agentk"

  lifecycle {
    create_before_destroy = true
    # A rebuilt cluster gets a fresh token.
    replace_triggered_by = [terraform_data.cluster]
  }
}
