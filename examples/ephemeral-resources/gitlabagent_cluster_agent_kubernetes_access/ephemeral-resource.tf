# A cluster behind a firewall, reached through its agent. The provider's user
# must be listed under the agent's `user_access` (see the
# gitlabagent_cluster_agent_config resource), and agentk must be connected.
data "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

# Credentials for this run only: a k8s_proxy token of the provider's user,
# revoked when Terraform is done with it.
ephemeral "gitlabagent_cluster_agent_kubernetes_access" "production" {
  project  = data.gitlabagent_cluster_agent.production.project
  agent_id = data.gitlabagent_cluster_agent.production.agent_id
}

provider "kubernetes" {
  host  = ephemeral.gitlabagent_cluster_agent_kubernetes_access.production.host
  token = ephemeral.gitlabagent_cluster_agent_kubernetes_access.production.token
}

# Helm provider 3.x: `kubernetes` is an attribute, not a block.
provider "helm" {
  kubernetes = {
    host  = ephemeral.gitlabagent_cluster_agent_kubernetes_access.production.host
    token = ephemeral.gitlabagent_cluster_agent_kubernetes_access.production.token
  }
}

resource "kubernetes_namespace_v1" "apps" {
  metadata {
    name = "apps"
  }
}

resource "helm_release" "ingress" {
  name       = "ingress-nginx"
  repository = "https://kubernetes.github.io/ingress-nginx"
  chart      = "ingress-nginx"
  namespace  = kubernetes_namespace_v1.apps.metadata[0].name
}
