resource "gitlabagent_cluster_agent" "edge" {
  project = "platform/clusters"
  name    = "edge"
}

resource "gitlabagent_cluster_agent_token" "edge" {
  project  = gitlabagent_cluster_agent.edge.project
  agent_id = gitlabagent_cluster_agent.edge.agent_id
  name     = "agentk"

  lifecycle {
    create_before_destroy = true
  }
}

# GitLab connects to the agent at url and signs JWTs with a key pair it
# generates; public_key is the half the agent verifies them with.
resource "gitlabagent_cluster_agent_url_configuration" "edge" {
  project  = gitlabagent_cluster_agent.edge.project
  agent_id = gitlabagent_cluster_agent.edge.agent_id
  url      = "grpcs://agent.edge.example.com:4242"
}

data "gitlabagent_kas" "this" {}

# agentk, from GitLab's Helm chart (Helm provider 3.x).
resource "helm_release" "agentk_edge" {
  name             = "gitlab-agent"
  repository       = "https://charts.gitlab.io"
  chart            = "gitlab-agent"
  namespace        = "gitlab-agent"
  create_namespace = true

  set = [
    {
      name  = "config.kasAddress"
      value = data.gitlabagent_kas.this.external_url
    },
    # Receptive mode: agentk listens for GitLab and accepts the JWTs signed by
    # the key pair of the URL configuration.
    {
      name  = "config.receptive.enabled"
      value = "true"
    },
    {
      name  = "config.api.jwtPublicKey"
      value = gitlabagent_cluster_agent_url_configuration.edge.public_key
    },
  ]

  # Write-only (Helm provider 3.x): the token never reaches the release's
  # state; a new token (new ID) upgrades the release.
  set_wo = [{
    name  = "config.token"
    value = gitlabagent_cluster_agent_token.edge.token
  }]
  set_wo_revision = gitlabagent_cluster_agent_token.edge.token_id
}
