# End-to-end example: what `make demo` applies against the mock GitLab.
#
# It registers two agents for Kubernetes in one project: one that connects to
# GitLab with a token (the usual mode) and whose configuration file it commits,
# and one that is receptive (GitLab connects to it). Then it reads the
# project's agents back with a data source, the address agentk connects to
# (gitlabagent_kas), and whether agentk has connected
# (gitlabagent_cluster_agent_connections; -var wait_for_agentk=2m waits for it).
#
# Against a real GitLab, run it with your own settings:
#
#   export GITLAB_BASE_URL=https://gitlab.example.com
#   export GITLAB_TOKEN=...   # api scope, Maintainer role on the project (the
#                             # configuration is committed to the default branch)
#   terraform apply -var project=group/project
#
# The receptive agent needs GitLab Ultimate (self-managed, 17.4 or later) with
# receptive agents enabled by an administrator.

terraform {
  required_version = ">= 1.11"

  required_providers {
    gitlabagent = {
      source = "gitlabagent/gitlabagent"
    }
  }
}

# base_url and token come from GITLAB_BASE_URL and GITLAB_TOKEN.
provider "gitlabagent" {}

variable "project" {
  description = "The project that holds the agents: its full path or numeric ID."
  type        = string
  default     = "root/test"
}

# An agent whose configuration lives in the project's repository at
# .gitlab/agents/demo/config.yaml.
resource "gitlabagent_cluster_agent" "demo" {
  project = var.project
  name    = "demo"
}

# The agent's configuration file, .gitlab/agents/demo/config.yaml, committed
# to the project's default branch: CI/CD jobs of the project may use the
# agent, and so may the project's members through GitLab's Kubernetes proxy.
resource "gitlabagent_cluster_agent_config" "demo" {
  project    = gitlabagent_cluster_agent.demo.project
  agent_name = gitlabagent_cluster_agent.demo.name

  ci_access = {
    projects = [{ id = var.project, default_namespace = "demo" }]
  }

  user_access = {
    access_as = { agent = {} }
    projects  = [{ id = var.project }]
  }

  observability = {
    logging = { level = "info" }
  }
}

# The token agentk, in the cluster, connects with. Rotate it with
#
#   terraform apply -replace=gitlabagent_cluster_agent_token.demo
#
# create_before_destroy creates the new token before the old one is revoked,
# so the cluster stays connected while it switches to the new token.
resource "gitlabagent_cluster_agent_token" "demo" {
  project     = gitlabagent_cluster_agent.demo.project
  agent_id    = gitlabagent_cluster_agent.demo.agent_id
  name        = "agentk"
  description = "Token of agentk in the demo cluster"

  # Replaced at the first plan after the token is 30 days old.
  rotate_after = "720h"

  lifecycle {
    create_before_destroy = true
  }
}

# A receptive agent: GitLab connects to it at the URL below and
# authenticates with JWTs signed by a key pair GitLab generates. The agent
# trusts the public half, public_key.
resource "gitlabagent_cluster_agent" "receptive" {
  project = var.project
  name    = "demo-receptive"
}

resource "gitlabagent_cluster_agent_url_configuration" "receptive" {
  project  = gitlabagent_cluster_agent.receptive.project
  agent_id = gitlabagent_cluster_agent.receptive.agent_id
  url      = "grpcs://agent.demo.example.com:4242"
}

# Where agentk connects to: GitLab's agent server (KAS), for the gitlab-agent
# Helm chart's config.kasAddress.
data "gitlabagent_kas" "this" {}

variable "wait_for_agentk" {
  description = "How long to wait for agentk to connect for the agent \"demo\", e.g. \"2m\"; null reads the connections once."
  type        = string
  default     = null
}

# The agentk pods connected for the agent "demo". Registering the agent and
# minting its token does not connect anything: agentk, installed in a cluster
# with the token, does (in `make demo`, the mock GitLab plays it).
data "gitlabagent_cluster_agent_connections" "demo" {
  project             = gitlabagent_cluster_agent.demo.project
  agent_id            = gitlabagent_cluster_agent.demo.agent_id
  wait_for_connection = var.wait_for_agentk

  depends_on = [gitlabagent_cluster_agent_token.demo]
}

# Every agent of the project, as GitLab lists them, read once both agents are
# in place.
data "gitlabagent_cluster_agents" "all" {
  project = var.project

  depends_on = [
    gitlabagent_cluster_agent.demo,
    gitlabagent_cluster_agent_url_configuration.receptive,
  ]
}

output "kas_address" {
  description = "Where agentk connects to (the Helm chart's config.kasAddress)."
  value       = data.gitlabagent_kas.this.external_url
}

output "agentk" {
  description = "Whether agentk is connected for the agent \"demo\", and from which pods."
  value = {
    connected = data.gitlabagent_cluster_agent_connections.demo.connected
    pods      = [for c in data.gitlabagent_cluster_agent_connections.demo.connections : "${c.pod_namespace}/${c.pod_name}"]
  }
}

output "agent_id" {
  description = "ID of the agent \"demo\"."
  value       = gitlabagent_cluster_agent.demo.agent_id
}

output "config_commit" {
  description = "The commit that last changed the agent's configuration file."
  value       = gitlabagent_cluster_agent_config.demo.last_commit_id
}

output "token_id" {
  description = "ID of the agent's current token: it changes when the token is rotated."
  value       = gitlabagent_cluster_agent_token.demo.token_id
}

# The secret agentk needs, e.g. for the gitlab-agent Helm chart's config.token.
# Terraform shows it as <sensitive>; `terraform output -raw token` prints it.
output "token" {
  description = "The agent token's secret."
  value       = gitlabagent_cluster_agent_token.demo.token
  sensitive   = true
}

output "receptive_agent_public_key" {
  description = "Public key the receptive agent verifies GitLab's JWTs with."
  value       = gitlabagent_cluster_agent_url_configuration.receptive.public_key
}

output "agents" {
  description = "The project's agents, by name."
  value = {
    for a in data.gitlabagent_cluster_agents.all.cluster_agents : a.name => {
      agent_id     = a.agent_id
      is_receptive = a.is_receptive
    }
  }
}
