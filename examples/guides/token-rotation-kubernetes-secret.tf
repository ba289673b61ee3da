# The token in a Kubernetes secret, for a chart or manifests that read it
# from there (the gitlab-agent chart: config.secretName).
resource "kubernetes_secret_v1" "agentk_token" {
  metadata {
    name      = "gitlab-agent-token"
    namespace = "gitlab-agent"
  }

  data = {
    token = gitlabagent_cluster_agent_token.production.token
  }
}
