# Put list blocks in a file whose name ends in .tfquery.hcl, such as
# agents.tfquery.hcl, beside the configuration: terraform query reads them
# only there (in a .tf file they are ignored).
#
# The URL configurations of a project's receptive agents.
list "gitlabagent_cluster_agent_url_configuration" "receptive" {
  provider = gitlabagent

  config {
    project = "root/test"
  }
}
