# Import with "<project>:<agent_name>", the project as its full path or numeric ID.
terraform import gitlabagent_cluster_agent_config.production root/test:production
terraform import gitlabagent_cluster_agent_config.production 20:production
