# Import with "<project>:<agent_id>:<token_id>"; the project is its numeric ID or full path.
# GitLab shows a token's secret only when the token is created, so `token` stays null after
# an import. Run `terraform apply -replace=gitlabagent_cluster_agent_token.production` to mint
# a fresh token Terraform knows (the imported one is revoked: update the cluster afterwards).
terraform import gitlabagent_cluster_agent_token.production root/test:1:1
