# Import with "<project>:<agent_id>", the project as its full path or numeric ID.
terraform import gitlabagent_cluster_agent.example root/test:42
terraform import gitlabagent_cluster_agent.example 20:42
