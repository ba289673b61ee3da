# Registers the agent "production" and commits its configuration,
# .gitlab/agents/production/config.yaml, to the default branch of root/test.
resource "gitlabagent_cluster_agent" "production" {
  project = "root/test"
  name    = "production"
}

resource "gitlabagent_cluster_agent_config" "production" {
  project    = gitlabagent_cluster_agent.production.project
  agent_name = gitlabagent_cluster_agent.production.name

  # CI/CD jobs of these projects and groups may use the agent's Kubernetes context.
  ci_access = {
    projects = [{
      id                = "root/test"
      default_namespace = "apps"
      access_as         = { ci_job = {} }
      environments      = ["production"]
    }]
    groups = [{ id = "root" }]
  }

  # Members of these projects may reach the cluster through GitLab's Kubernetes API proxy.
  user_access = {
    access_as = { agent = {} }
    projects  = [{ id = "root/test" }]
  }

  observability = {
    logging = { level = "info" }
  }

  # Keys without typed attributes, as YAML; a key set both here and above is an error.
  additional_config = yamlencode({
    flux = { webhook_receiver_url = "http://webhook-receiver.flux-system.svc.cluster.local" }
  })

  commit_message = "Configure agent production"
}
