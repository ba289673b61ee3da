# Put list blocks in a file whose name ends in .tfquery.hcl, such as
# agents.tfquery.hcl, beside the configuration: terraform query reads them
# only there (in a .tf file they are ignored).
#
# The agents of a project whose names start with "prod-". Run
#
#   terraform query -generate-config-out=generated.tf
#
# to write a resource block and an import block for each of them.
list "gitlabagent_cluster_agent" "production" {
  provider = gitlabagent

  config {
    project     = "root/test"
    name_prefix = "prod-"
  }
}
