package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// MaxActiveTokens is how many active tokens GitLab allows per agent (since 16.2).
const MaxActiveTokens = 2

// tokenLimitMessage is GitLab's answer to a create beyond the limit.
const tokenLimitMessage = "only two active tokens"

// operateHint says where tokens are revoked by hand.
const operateHint = "in GitLab under Operate > Kubernetes clusters > <agent> > Access tokens"

func tokenTarget(project string, agentID, tokenID int64) Target {
	t := agentTarget(project, agentID)
	t.Object = "token " + strconv.FormatInt(tokenID, 10)
	return t
}

// listAgentTokens reads the agent's active tokens, all pages. GitLab's list
// carries no last_used_at (see ActiveAgentTokens).
func (c *Client) listAgentTokens(ctx context.Context, project string, agentID int64) ([]*gl.AgentToken, error) {
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
	if err == nil {
		c.tokens.remember(agentID, tokenID)
	}
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
	listed, err := c.listAgentTokens(ctx, project, agentID)
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
// GitLab shows only in this answer. It costs one POST: GitLab enforces its
// limit of active tokens itself, and only when it refuses are the agent's
// tokens listed, to name them in the error.
//
// Creates for one agent are serialized within the provider process, and the
// process remembers every token of the agent it created or read, so that a
// create whose outcome is unknown (a 5xx, no answer) can be reconciled: see
// reconcileCreate. The POST itself is never repeated.
func (c *Client) CreateAgentToken(ctx context.Context, project string, agentID int64, name string, description *string) (*gl.AgentToken, error) {
	release, err := c.tokens.lock(ctx, agentID)
	if err != nil {
		return nil, explain(err, nil, fmt.Sprintf("create token %q", name), agentTarget(project, agentID))
	}
	defer release()

	target := agentTarget(project, agentID)
	target.Object = fmt.Sprintf("token %q", name)
	action := fmt.Sprintf("create token %q", name)
	start := time.Now()
	opt := &gl.CreateAgentTokenOptions{Name: gl.Ptr(name), Description: description}
	t, resp, err := c.api.ClusterAgents.CreateAgentToken(project, agentID, opt, gl.WithContext(ctx))
	if err == nil {
		c.tokens.remember(agentID, t.ID)
		return t, nil
	}
	explained := explain(err, resp, action, target)
	if isMissing(explained) {
		// A Maintainer's create gets 404 only for an agent that is not there.
		explained = explain(err, resp, action, agentTarget(project, agentID))
	}
	status := StatusCode(explained)
	switch {
	case status == http.StatusBadRequest && strings.Contains(Message(explained), tokenLimitMessage):
		listed, listErr := c.ActiveAgentTokens(ctx, project, agentID)
		if listErr != nil {
			return nil, explained
		}
		return nil, c.tokenLimitError(project, agentID, name, listed, explained)
	case status == 0 || status >= http.StatusInternalServerError:
		return nil, c.reconcileCreate(ctx, project, agentID, name, description, start, explained)
	}
	return nil, explained
}

// agentTokens serializes token creates per agent and remembers the tokens
// the process created or read, per agent.
type agentTokens struct {
	mu    sync.Mutex
	locks map[int64]chan struct{}
	known map[int64]map[int64]bool // agent ID -> token IDs
}

// lock waits for the agent's other creates in this process, or for ctx.
func (a *agentTokens) lock(ctx context.Context, agentID int64) (func(), error) {
	a.mu.Lock()
	if a.locks == nil {
		a.locks = map[int64]chan struct{}{}
	}
	ch, ok := a.locks[agentID]
	if !ok {
		ch = make(chan struct{}, 1)
		a.locks[agentID] = ch
	}
	a.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *agentTokens) remember(agentID, tokenID int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.known == nil {
		a.known = map[int64]map[int64]bool{}
	}
	if a.known[agentID] == nil {
		a.known[agentID] = map[int64]bool{}
	}
	a.known[agentID][tokenID] = true
}

func (a *agentTokens) isKnown(agentID, tokenID int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.known[agentID][tokenID]
}

// tokenLimitError explains that the agent already has two active tokens,
// listing them with their last use.
func (c *Client) tokenLimitError(project string, agentID int64, name string, listed []*gl.AgentToken, cause error) error {
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
	for _, t := range listed {
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
// created the token and lost the answer, the only place its secret appears.
// A token is revoked only when it can be attributed to this request beyond
// doubt: listing the agent's tokens shows exactly one that this process
// neither created nor read, created since the request began by GitLab's own
// clock (the Date of the list's answer, less the time elapsed), with this
// request's name and description, and no other such token (which would mean
// someone else is creating tokens for the agent right now). Anything else is
// reported with the candidates and how to revoke them by hand: a token that
// another Terraform state may hold is never revoked.
func (c *Client) reconcileCreate(ctx context.Context, project string, agentID int64, name string, description *string, start time.Time, explained error) error {
	var cause *Error
	if !errors.As(explained, &cause) {
		return explained
	}
	e := *cause
	e.OutcomeUnknown = true
	byHand := fmt.Sprintf("Check the agent's tokens %s: a token named %q created at about %s has a secret nobody "+
		"received; revoke it, then run again.", operateHint, name, start.UTC().Format(time.RFC3339))
	if IsInterrupted(explained) {
		e.Detail = fmt.Sprintf("%s Whether GitLab created the token is unknown. %s", cause.Detail, byHand)
		return &e
	}
	var after []*gl.AgentToken
	resp, err := c.send(ctx, http.MethodGet, agentPath(project, agentID)+"/tokens", &gl.ListOptions{PerPage: maxPerPage}, &after)
	if err != nil {
		e.Detail = fmt.Sprintf("%s Whether GitLab created the token is unknown, and listing the agent's tokens to "+
			"find out failed (%s). %s", cause.Detail, errorDetail(explain(err, resp, "list tokens", agentTarget(project, agentID))), byHand)
		return &e
	}
	serverNow, dateErr := http.ParseTime(resp.Header.Get("Date"))
	// The Date header has a resolution of one second.
	since := serverNow.Add(-time.Since(start) - 2*time.Second)
	var candidates, others []*gl.AgentToken
	for _, t := range after {
		if c.tokens.isKnown(agentID, t.ID) || t.CreatedAt == nil || (dateErr == nil && t.CreatedAt.Before(since)) {
			continue
		}
		if dateErr != nil || t.Name != name || t.Description != ptrValue(description) {
			others = append(others, t)
			continue
		}
		candidates = append(candidates, t)
	}
	switch {
	case len(candidates) == 0 && len(others) == 0:
		e.Detail = fmt.Sprintf("%s The agent's tokens were checked: GitLab created no token named %q, so "+
			"nothing is left behind. Run again to create it.", cause.Detail, name)
	case len(candidates) == 1 && len(others) == 0:
		t := candidates[0]
		if err := c.RevokeAgentToken(ctx, project, agentID, t.ID); err != nil {
			e.Detail = fmt.Sprintf("%s GitLab did create token %d (%q) but its answer, the only place its secret "+
				"appears, was lost. Revoking that token failed (%s): revoke token %d %s, then run again.",
				cause.Detail, t.ID, name, errorDetail(err), t.ID, operateHint)
		} else {
			e.Detail = fmt.Sprintf("%s GitLab did create token %d (%q) but its answer, the only place its secret "+
				"appears, was lost; token %d was revoked so that no credential nobody holds is left behind. "+
				"Run again to create a new token.", cause.Detail, t.ID, name, t.ID)
		}
	default:
		all := append(candidates, others...)
		lines := make([]string, 0, len(all))
		for _, t := range all {
			lines = append(lines, "  - "+describeToken(t))
		}
		e.Detail = fmt.Sprintf("%s Whether GitLab created the token is unknown, and which token it would be cannot "+
			"be told beyond doubt: these tokens of the agent were created while the request was under way, "+
			"possibly by another run or another Terraform state:\n%s\nNothing was revoked. Revoke the one no "+
			"configuration holds %s (a token whose secret nobody received), then run again.",
			cause.Detail, strings.Join(lines, "\n"), operateHint)
	}
	return &e
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
