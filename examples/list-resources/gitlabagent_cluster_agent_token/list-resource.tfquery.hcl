# Put list blocks in a file whose name ends in .tfquery.hcl, such as
# agents.tfquery.hcl, beside the configuration: terraform query reads them
# only there (in a .tf file they are ignored).
#
# The active tokens of every agent of a project. Their secrets cannot be
# adopted: GitLab shows a secret only when the token is created.
list "gitlabagent_cluster_agent_token" "all" {
  provider = gitlabagent

  config {
    project = "root/test"
  }
}
