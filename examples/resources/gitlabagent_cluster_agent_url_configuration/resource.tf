resource "gitlabagent_cluster_agent" "edge" {
  project = "root/test"
  name    = "edge"
}

# JWT authentication: GitLab connects to the agent at `url` and authenticates
# with JWTs signed by a key pair it generates. Give `public_key` to the agent.
resource "gitlabagent_cluster_agent_url_configuration" "edge" {
  project  = gitlabagent_cluster_agent.edge.project
  agent_id = gitlabagent_cluster_agent.edge.agent_id
  url      = "grpcs://agent.edge.example.com:4242"
  tls_host = "agent.edge.internal"
}

output "edge_jwt_public_key" {
  value = gitlabagent_cluster_agent_url_configuration.edge.public_key
}

# mTLS authentication instead: GitLab presents a client certificate. Pass its
# key write-only (Terraform 1.11 and later), e.g. from an ephemeral variable,
# so that it never enters the plan or state:
#
# variable "kas_client_key" {
#   type      = string
#   ephemeral = true
# }
#
# resource "gitlabagent_cluster_agent_url_configuration" "factory" {
#   project     = "root/test"
#   agent_id    = gitlabagent_cluster_agent.factory.agent_id
#   url         = "grpcs://10.20.0.15:4242"
#   tls_host    = "agent.factory.internal"
#   ca_cert     = file("${path.module}/agent-server-ca.pem")
#   client_cert = file("${path.module}/kas-client.pem")
#
#   client_key_wo = var.kas_client_key
#   # Bump to send a new key (with its new certificate) to GitLab.
#   client_key_wo_version = 1
# }
