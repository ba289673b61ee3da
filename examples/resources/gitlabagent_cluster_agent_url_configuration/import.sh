# Import with "<project>:<agent_id>:<url_configuration_id>"; the project is its numeric ID or full path.
# GitLab never returns the client key of an mTLS configuration, so it stays null after the import:
# set `client_key_wo` (with `client_key_wo_version`) or `client_key` in configuration, and the next
# apply records it in state without replacing the configuration.
terraform import gitlabagent_cluster_agent_url_configuration.edge root/test:1:1
