variable "gitlab_client_key" {
  description = "PEM private key of the client certificate GitLab presents to the agent."
  type        = string
  sensitive   = true
  # Never stored in the plan or the state (Terraform 1.10 and later).
  ephemeral = true
}

# GitLab connects to the agent with a client certificate, which the agent's
# endpoint must be configured to require and trust.
resource "gitlabagent_cluster_agent_url_configuration" "edge" {
  project  = gitlabagent_cluster_agent.edge.project
  agent_id = gitlabagent_cluster_agent.edge.agent_id
  url      = "grpcs://10.20.0.15:4242"

  client_cert = file("${path.module}/pki/gitlab-client.pem")
  # Write-only (Terraform 1.11 and later): sent to GitLab once, kept nowhere.
  client_key_wo = var.gitlab_client_key
  # Bump to send a new key: the configuration is replaced.
  client_key_wo_version = 1

  # The agent's server certificate: its CA, and the name it is issued for.
  ca_cert  = file("${path.module}/pki/edge-ca.pem")
  tls_host = "agent.edge.example.com"
}
