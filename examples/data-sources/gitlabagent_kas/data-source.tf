# Where agentk connects to: GitLab's agent server (KAS), as GitLab tells it.
data "gitlabagent_kas" "this" {}

# For the gitlab-agent Helm chart's config.kasAddress.
output "kas_address" {
  value = data.gitlabagent_kas.this.external_url
}

output "kas" {
  value = {
    enabled         = data.gitlabagent_kas.this.enabled
    k8s_proxy_url   = data.gitlabagent_kas.this.external_k8s_proxy_url
    kas_version     = data.gitlabagent_kas.this.version
    gitlab_version  = data.gitlabagent_kas.this.gitlab_version
    gitlab_revision = data.gitlabagent_kas.this.gitlab_revision
  }
}
