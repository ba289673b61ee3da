# The active tokens of every agent of a project. Their secrets cannot be
# adopted: GitLab shows a secret only when the token is created.
list "gitlabagent_cluster_agent_token" "all" {
  provider = gitlabagent

  config {
    project = "root/test"
  }
}
