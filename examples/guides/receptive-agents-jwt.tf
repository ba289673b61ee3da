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

resource "helm_release" "agentk_edge" {
  name             = "gitlab-agent"
  repository       = "https://charts.gitlab.io"
  chart            = "gitlab-agent"
  namespace        = "gitlab-agent"
  create_namespace = true

  set {
    name  = "config.kasAddress"
    value = "wss://kas.gitlab.example.com"
  }

  set_sensitive {
    name  = "config.token"
    value = gitlabagent_cluster_agent_token.edge.token
  }

  # Receptive mode: agentk listens for GitLab and accepts the JWTs signed by
  # the key pair of the URL configuration.
  set {
    name  = "config.receptive.enabled"
    value = "true"
  }

  set {
    name  = "config.api.jwtPublicKey"
    value = gitlabagent_cluster_agent_url_configuration.edge.public_key
  }
}
