terraform {
  required_providers {
    gitlabagent = {
      source = "gitlabagent/gitlabagent"
    }
  }
}

variable "gitlab_base_url" {
  description = "GitLab's URL, e.g. https://gitlab.example.com for a self-managed instance."
  type        = string
  default     = "https://gitlab.com"
}

variable "gitlab_token" {
  description = "Access token with the api scope and the Maintainer role on the agents' projects."
  type        = string
  sensitive   = true
}

provider "gitlabagent" {
  base_url = var.gitlab_base_url
  token    = var.gitlab_token
}

# Or leave the provider block empty and set GITLAB_BASE_URL and GITLAB_TOKEN
# in the environment.
