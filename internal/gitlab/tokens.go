package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// MaxActiveTokens is how many active tokens GitLab allows per agent (since 16.2).
const MaxActiveTokens = 2

// reconcileWindow bounds how long before a create whose outcome is unknown a
// token may have been created to be taken for the one that create made
// (it allows for clock skew between Terraform and GitLab).
const reconcileWindow = 5 * time.Minute

// tokenLimitMessage is GitLab's answer to a create beyond the limit.
const tokenLimitMessage = "only two active tokens"

// operateHint says where tokens are revoked by hand.
const operateHint = "in GitLab under Operate > Kubernetes clusters > <agent> > Access tokens"

func tokenTarget(project string, agentID, tokenID int64) Target {
	t := agentTarget(project, agentID)
	t.Object = "token " + strconv.FormatInt(tokenID, 10)
	return t
}

// ListAgentTokens reads the agent's active tokens, all pages. GitLab's list
// carries no last_used_at (see ActiveAgentTokens).
func (c *Client) ListAgentTokens(ctx context.Context, project string, agentID int64) ([]*gl.AgentToken, error) {
	var last *gl.Response
	tokens, err := gl.ScanAndCollect(func(page gl.PaginationOptionFunc) ([]*gl.AgentToken, *gl.Response, error) {
		opt := &gl.ListAgentTokensOptions{ListOptions: gl.ListOptions{PerPage: maxPerPage}}
		batch, resp, err := c.api.ClusterAgents.ListAgentTokens(project, agentID, opt, gl.WithContext(ctx), page)
		last = resp
		return batch, resp, err
	})
	if err != nil {
		return nil, explain(err, last, fmt.Sprintf("list the tokens of agent %d", agentID), agentTarget(project, agentID))
	}
	return tokens, nil
}

// GetAgentToken reads one token, with last_used_at. GitLab answers 404 for a
// revoked token (GitLab < 16.0 answered 200 with status "revoked"); see
// IsNotFound.
func (c *Client) GetAgentToken(ctx context.Context, project string, agentID, tokenID int64) (*gl.AgentToken, error) {
	t, resp, err := c.api.ClusterAgents.GetAgentToken(project, agentID, tokenID, gl.WithContext(ctx))
	if err != nil {
		explained := explain(err, resp, fmt.Sprintf("read token %d", tokenID), tokenTarget(project, agentID, tokenID))
		if isMissing(explained) {
			return nil, c.confirmTokenGone(ctx, project, agentID, tokenID, explained)
		}
		return nil, explained
	}
	return t, nil
}

// confirmTokenGone follows GitLab's 404 for a token, which GitLab also
// answers to callers who may not read the agent. The token is gone (revoked,
// or deleted with its agent) only if the caller may list the agent's tokens,
// or may list the project's agents while the agent's tokens are not found.
func (c *Client) confirmTokenGone(ctx context.Context, project string, agentID, tokenID int64, notFound error) error {
	tokensPath := agentPath(project, agentID) + "/tokens"
	var page []*gl.AgentToken
	resp, err := c.send(ctx, http.MethodGet, tokensPath, &gl.ListOptions{PerPage: 1}, &page)
	if err == nil {
		return markGone(notFound)
	}
	explained := explain(err, resp, fmt.Sprintf("list the tokens of agent %d", agentID), agentTarget(project, agentID))
	if !isMissing(explained) {
		return c.notVisibleError(notFound, explained, fmt.Sprintf("token %d of agent %d", tokenID, agentID), project)
	}
	if agentErr := c.confirmAgentGone(ctx, project, agentID, explained); !IsNotFound(agentErr) {
		return c.notVisibleError(notFound, agentErr, fmt.Sprintf("token %d of agent %d", tokenID, agentID), project)
	}
	return markGone(notFound)
}

// ActiveAgentTokens lists the agent's active tokens and reads each one for
// its last_used_at (GitLab allows at most two active tokens, so this is at
// most a few requests). A token revoked between the list and its read is
// left out.
func (c *Client) ActiveAgentTokens(ctx context.Context, project string, agentID int64) ([]*gl.AgentToken, error) {
	listed, err := c.ListAgentTokens(ctx, project, agentID)
	if err != nil {
		return nil, err
	}
	out := make([]*gl.AgentToken, 0, len(listed))
	for _, l := range listed {
		t, resp, err := c.api.ClusterAgents.GetAgentToken(project, agentID, l.ID, gl.WithContext(ctx))
		if isGone(resp) {
			continue // revoked since the list, which showed the agent's tokens may be read
		}
		err = explain(err, resp, fmt.Sprintf("read token %d", l.ID), tokenTarget(project, agentID, l.ID))
		if err != nil {
			return nil, err
		}
		if t.Status != "" && t.Status != "active" {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// RevokeAgentToken revokes a token. A token or agent that no longer exists is
// not an error: revoking is what was wanted.
func (c *Client) RevokeAgentToken(ctx context.Context, project string, agentID, tokenID int64) error {
	resp, err := c.api.ClusterAgents.RevokeAgentToken(project, agentID, tokenID, gl.WithContext(ctx))
	if err != nil && !isGone(resp) {
		return explain(err, resp, fmt.Sprintf("revoke token %d", tokenID), tokenTarget(project, agentID, tokenID))
	}
	return nil
}

// CreateAgentToken creates a token and returns it with its secret, which
// GitLab shows only in this answer.
//
// Before the POST it lists the agent's active tokens: with two already active
// GitLab would refuse, so it fails with an error naming them and nothing is
// created. The POST is never repeated: when its outcome is unknown (a 5xx or
// no answer), the agent's tokens are checked for one this request created,
// which is revoked, since its secret was lost with the answer.
func (c *Client) CreateAgentToken(ctx context.Context, project string, agentID int64, name string, description *string) (*gl.AgentToken, error) {
	target := agentTarget(project, agentID)
	target.Object = fmt.Sprintf("token %q", name)
	action := fmt.Sprintf("create token %q", name)

	before, err := c.ListAgentTokens(ctx, project, agentID)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			failed := *e
			failed.Summary = "Failed to " + action
			failed.Detail = "Listing the agent's active tokens before creating one failed. " + e.Detail
			return nil, &failed
		}
		return nil, err
	}
	if len(before) >= MaxActiveTokens {
		return nil, c.tokenLimitError(ctx, project, agentID, name, before, nil)
	}

	start := time.Now()
	opt := &gl.CreateAgentTokenOptions{Name: gl.Ptr(name), Description: description}
	t, resp, err := c.api.ClusterAgents.CreateAgentToken(project, agentID, opt, gl.WithContext(ctx))
	if err == nil {
		return t, nil
	}
	explained := explain(err, resp, action, target)
	status := StatusCode(explained)
	switch {
	case status == http.StatusBadRequest && strings.Contains(Message(explained), tokenLimitMessage):
		// Another token was created since the list above.
		listed, listErr := c.ListAgentTokens(ctx, project, agentID)
		if listErr != nil {
			return nil, explained
		}
		return nil, c.tokenLimitError(ctx, project, agentID, name, listed, explained)
	case status == 0 || status >= http.StatusInternalServerError:
		return nil, c.reconcileCreate(ctx, project, agentID, name, before, start, explained)
	}
	return nil, explained
}

// tokenLimitError explains that the agent already has two active tokens,
// listing them with their last use.
func (c *Client) tokenLimitError(ctx context.Context, project string, agentID int64, name string, listed []*gl.AgentToken, cause error) error {
	e := &Error{
		Status:  http.StatusBadRequest,
		Summary: fmt.Sprintf("Agent %d already has %d active tokens", agentID, len(listed)),
		err:     cause,
	}
	if cause != nil {
		e.GitLabMessage = Message(cause)
	} else {
		e.err = errors.New("agent token limit reached")
	}
	var lines []string
	for _, l := range listed {
		t := l
		if full, err := c.GetAgentToken(ctx, project, agentID, l.ID); err == nil {
			t = full
		}
		lines = append(lines, "  - "+describeToken(t))
	}
	said := ""
	if e.GitLabMessage != "" {
		said = fmt.Sprintf(" GitLab said: %q.", e.GitLabMessage)
	}
	e.Detail = fmt.Sprintf("Cannot create token %q for agent %d of project %q: GitLab allows at most %d active "+
		"tokens per agent, and these are active:\n%s\n\nNothing was created or revoked.%s To go on, either:\n"+
		"  - revoke one of them: remove (or replace) the gitlabagent_cluster_agent_token resource that owns it, "+
		"or revoke it %s; or\n"+
		"  - if this happened while replacing a token with lifecycle { create_before_destroy = true }, use the "+
		"default destroy-then-create replacement instead (remove create_before_destroy), which revokes the old "+
		"token before creating the new one.",
		name, agentID, project, MaxActiveTokens, strings.Join(lines, "\n"), said, operateHint)
	return e
}

// describeToken renders a token for a message: id, name and times, never the secret.
func describeToken(t *gl.AgentToken) string {
	lastUsed := "never used"
	if t.LastUsedAt != nil {
		lastUsed = "last used " + t.LastUsedAt.UTC().Format(time.RFC3339)
	}
	created := "creation time unknown"
	if t.CreatedAt != nil {
		created = "created " + t.CreatedAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("token_id %d (%q), %s, %s", t.ID, t.Name, created, lastUsed)
}

// reconcileCreate handles a POST whose outcome is unknown: GitLab may have
// created the token and lost the answer. A token this request created is one
// of the same name, absent from the list taken just before the POST, created
// no earlier than shortly before the POST. Exactly one such token is revoked
// (nobody ever saw its secret, so keeping it would leave a credential nobody
// holds); anything else is reported.
func (c *Client) reconcileCreate(ctx context.Context, project string, agentID int64, name string, before []*gl.AgentToken, start time.Time, explained error) error {
	var cause *Error
	if !errors.As(explained, &cause) {
		return explained
	}
	known := map[int64]bool{}
	for _, t := range before {
		known[t.ID] = true
	}
	e := *cause
	after, err := c.ListAgentTokens(ctx, project, agentID)
	if err != nil {
		e.Detail = fmt.Sprintf("%s Whether GitLab created the token is unknown, and listing the agent's tokens to "+
			"find out failed (%v). Check the agent's tokens %s: a token named %q created at about %s has a secret "+
			"nobody received; revoke it, then run again.",
			cause.Detail, err, operateHint, name, start.UTC().Format(time.RFC3339))
		return &e
	}
	var found []*gl.AgentToken
	for _, t := range after {
		if t.Name == name && !known[t.ID] && (t.CreatedAt == nil || !t.CreatedAt.Before(start.Add(-reconcileWindow))) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		e.Detail = fmt.Sprintf("%s The agent's tokens were checked: GitLab created no token named %q, so "+
			"nothing is left behind.", cause.Detail, name)
	case 1:
		t := found[0]
		if err := c.RevokeAgentToken(ctx, project, agentID, t.ID); err != nil {
			e.Detail = fmt.Sprintf("%s GitLab did create token %d (%q) but its answer, the only place its secret "+
				"appears, was lost. Revoking that token failed (%v): revoke token %d %s, then run again.",
				cause.Detail, t.ID, name, err, t.ID, operateHint)
		} else {
			e.Detail = fmt.Sprintf("%s GitLab did create token %d (%q) but its answer, the only place its secret "+
				"appears, was lost; token %d was revoked so that no credential nobody holds is left behind. "+
				"Run again to create a new token.", cause.Detail, t.ID, name, t.ID)
		}
	default:
		lines := make([]string, 0, len(found))
		for _, t := range found {
			lines = append(lines, "  - "+describeToken(t))
		}
		e.Detail = fmt.Sprintf("%s Whether GitLab created the token is unknown, and the agent has %d new tokens "+
			"named %q, possibly from another run at the same time:\n%s\nNothing was revoked. Revoke the ones no "+
			"configuration holds %s, then run again.", cause.Detail, len(found), name, strings.Join(lines, "\n"),
			operateHint)
	}
	return &e
}
