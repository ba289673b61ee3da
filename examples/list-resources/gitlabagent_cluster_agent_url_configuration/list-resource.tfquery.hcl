# The URL configurations of a project's receptive agents.
list "gitlabagent_cluster_agent_url_configuration" "receptive" {
  provider = gitlabagent

  config {
    project = "root/test"
  }
}
