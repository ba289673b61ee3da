package provider

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

// errorDetail is the detail of a failed GitLab request as a Terraform user
// reads it: what the client found, and, for an answer that is not GitLab's,
// where to look.
func errorDetail(e *gitlab.Error) string {
	detail := e.Detail
	if advice := kindAdvice(e); advice != "" {
		detail += " " + advice
	}
	if settings := settingsAdvice(e.Check); settings != "" {
		detail += " " + settings
	}
	return detail + answerAdvice(e)
}

// answerAdvice is notGitLabAdvice, set apart, for an error whose answer is not GitLab's, or "".
func answerAdvice(e *gitlab.Error) string {
	if e.Answer == nil {
		return ""
	}
	return "\n\n" + notGitLabAdvice
}

// notGitLabAdvice says what to check when something other than GitLab's API
// answered.
const notGitLabAdvice = "Terraform's state was left as it was: an answer that is not GitLab's is never taken " +
	"for a success or a deletion. " + checkBaseURLAdvice

// checkBaseURLAdvice says where to look when something other than GitLab's API answered.
const checkBaseURLAdvice = "Something other than GitLab's API answered. Check the provider's `base_url` " +
	"(or GITLAB_BASE_URL): it must be GitLab's API, for example https://gitlab.example.com/api/v4, not the web " +
	"interface, a sign-in page or a load balancer's default site. Check any proxy on the way (HTTPS_PROXY, " +
	"HTTP_PROXY, NO_PROXY): a proxy or captive portal that asks to sign in, or redirects there, keeps API " +
	"requests from reaching GitLab."

// addTokenCreateError adds a failed token create. When GitLab may have
// created the token (its answer was lost) and the agent has tokens that may
// be it, none of which was revoked, it says how to revoke or adopt each.
func addTokenCreateError(diags *diag.Diagnostics, err error, project string, agentID int64) {
	var e *gitlab.Error
	if !errors.As(err, &e) || len(e.Candidates) == 0 {
		addError(diags, err)
		return
	}
	example := fmt.Sprintf("%s:%d:%d", project, agentID, e.Candidates[0].ID)
	advice := fmt.Sprintf("The provider revoked none of them: a token with this name may be another run's, "+
		"held by another state and used by a cluster, and GitLab's list cannot tell whose each one is. "+
		"For each token listed, find out whether a Terraform state holds it (`terraform state show` shows its "+
		"token_id) or a cluster uses it (its last use, in GitLab under Operate > Kubernetes clusters > agent %d > "+
		"Access tokens). For a token nobody holds, whose secret was lost with the answer, either:\n"+
		"  - revoke it there (or DELETE /projects/:id/cluster_agents/%d/tokens/<token_id>), then run again; or\n"+
		"  - adopt it into this resource and rotate it at once, since Terraform can never learn its secret:\n"+
		"      terraform import <address of this gitlabagent_cluster_agent_token> '%s'\n"+
		"      terraform apply -replace=<address of this gitlabagent_cluster_agent_token>\n"+
		"    (with `lifecycle { create_before_destroy = true }` the new token exists before the adopted one is "+
		"revoked).\n"+
		"Until then each such token counts against GitLab's limit of %d active tokens per agent.",
		agentID, agentID, example, gitlab.MaxActiveTokens)
	diags.AddError(e.Summary, errorDetail(e)+"\n\n"+advice)
}
