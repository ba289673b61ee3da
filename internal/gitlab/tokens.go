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
		if err = checkAnswer(resp, err, http.StatusOK); err == nil {
			err = checkListedTokens(resp, agentID, batch)
		}
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
	if err = checkToken(resp, err, agentID, tokenID, t); err == nil {
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
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
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
		err = checkToken(resp, err, agentID, l.ID, t)
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
	if err = checkAnswer(resp, err, http.StatusNoContent); err != nil && !isGone(resp) {
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
	if err == nil {
		if err = notSentContext(ctx); err != nil {
			release()
		}
	}
	if err != nil {
		return nil, explain(asNotSent(err), nil, fmt.Sprintf("create token %q", name), agentTarget(project, agentID))
	}
	defer release()

	target := agentTarget(project, agentID)
	target.Object = fmt.Sprintf("token %q", name)
	action := fmt.Sprintf("create token %q", name)
	start := time.Now()
	opt := &gl.CreateAgentTokenOptions{Name: gl.Ptr(name), Description: description}
	t, resp, err := c.api.ClusterAgents.CreateAgentToken(project, agentID, opt, gl.WithContext(ctx))
	if err = checkAnswer(resp, err, http.StatusCreated); err == nil {
		if problem := newTokenProblem(resp, t, agentID, name); problem != "" {
			err = wrongObject(resp, http.StatusCreated, problem)
		}
	}
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
	var e *Error
	switch {
	case errors.As(explained, &e) && e.NotSent:
		e.Detail += fmt.Sprintf(" Token %q was not created, and nothing is left behind: run again.", name)
		return nil, e
	case e != nil && e.Answer != nil:
		return nil, c.reconcileCreate(ctx, project, agentID, name, start, explained)
	case status == http.StatusBadRequest && strings.Contains(Message(explained), tokenLimitMessage):
		listed, listErr := c.ActiveAgentTokens(ctx, project, agentID)
		if listErr != nil {
			return nil, explained
		}
		return nil, c.tokenLimitError(project, agentID, name, listed, explained)
	case status == 0 || status >= http.StatusInternalServerError:
		return nil, c.reconcileCreate(ctx, project, agentID, name, start, explained)
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
		Kind:    KindTokenLimit, Project: project, AgentID: agentID, Tokens: listed,
		err: cause,
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
		"tokens per agent, and these are active:\n%s\n\nNothing was created or revoked.%s To go on, revoke "+
		"one of them (%s), or create the new token only once an old one is revoked.",
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
	creator := "creator unknown"
	if t.CreatedByUserID != 0 {
		creator = fmt.Sprintf("by user %d", t.CreatedByUserID)
	}
	return fmt.Sprintf("token_id %d (%q), %s %s, %s", t.ID, t.Name, created, creator, lastUsed)
}

// reconcileCreate handles a POST whose outcome is unknown: GitLab may have
// created the token and lost the answer, the only place its secret appears.
// Nothing is ever revoked: no rule based on the agent's tokens can tell a
// token this request created from one another run created meanwhile with the
// same name, which another state holds and a cluster uses. The agent's
// tokens are listed instead, and those that may be this request's (named
// like it, created since the request began by GitLab's clock, neither
// created nor read by this process) are returned as the error's Candidates.
func (c *Client) reconcileCreate(ctx context.Context, project string, agentID int64, name string, start time.Time, explained error) error {
	var cause *Error
	if !errors.As(explained, &cause) {
		return explained
	}
	e := *cause
	e.OutcomeUnknown = true
	if IsInterrupted(explained) {
		e.Detail = fmt.Sprintf("%s Whether GitLab created token %q is unknown, and the run ended before the "+
			"agent's tokens could be checked. Nothing was revoked. Check the agent's tokens %s for a token named "+
			"%q created at about %s.", cause.Detail, name, operateHint, name, start.UTC().Format(time.RFC3339))
		return &e
	}
	var after []*gl.AgentToken
	resp, err := c.send(ctx, http.MethodGet, agentPath(project, agentID)+"/tokens", &gl.ListOptions{PerPage: maxPerPage}, &after)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		err = checkListedTokens(resp, agentID, after)
	}
	if err != nil {
		e.Detail = fmt.Sprintf("%s Whether GitLab created token %q is unknown, and listing the agent's tokens to "+
			"find out failed (%s). Nothing was revoked. Check the agent's tokens %s for a token named %q created "+
			"at about %s.", cause.Detail, name, errorDetail(explain(err, resp, "list tokens", agentTarget(project, agentID))),
			operateHint, name, start.UTC().Format(time.RFC3339))
		return &e
	}
	serverNow, dateErr := http.ParseTime(resp.Header.Get("Date"))
	// The Date header has a resolution of one second.
	since := serverNow.Add(-time.Since(start) - 2*time.Second)
	for _, t := range after {
		if c.tokens.isKnown(agentID, t.ID) || t.Name != name || (dateErr == nil && t.CreatedAt != nil && t.CreatedAt.Before(since)) {
			continue
		}
		e.Candidates = append(e.Candidates, t)
	}
	if len(e.Candidates) == 0 {
		e.Detail = fmt.Sprintf("%s The agent's tokens were checked: GitLab created no token named %q since the "+
			"request began, so nothing is left behind. Run again to create it.", cause.Detail, name)
		e.OutcomeUnknown = false
		return &e
	}
	lines := make([]string, 0, len(e.Candidates))
	for _, t := range e.Candidates {
		lines = append(lines, "  - "+describeToken(t))
	}
	e.Detail = fmt.Sprintf("%s Whether GitLab created token %q is unknown. These active tokens of agent %d are "+
		"named %q and were created since the request began; one may be the token this request created, whose "+
		"secret nobody received, or any of them may be another run's, which another configuration holds and a "+
		"cluster may use:\n%s\nNothing was revoked: which token is whose cannot be told from GitLab's list.",
		cause.Detail, name, agentID, name, strings.Join(lines, "\n"))
	return &e
}

// checkToken checks the answer to a read of token tokenID of agent agentID.
func checkToken(resp *gl.Response, err error, agentID, tokenID int64, t *gl.AgentToken) error {
	if err = checkAnswer(resp, err, http.StatusOK); err != nil || resp == nil {
		return err
	}
	var got int64
	if t != nil {
		got = t.ID
	}
	if problem := objectProblem(resp, "token", got, tokenID); problem != "" {
		return wrongObject(resp, http.StatusOK, problem)
	}
	if t.AgentID != 0 && t.AgentID != agentID {
		return wrongObject(resp, http.StatusOK, fmt.Sprintf("it describes a token of agent %d, not of agent %d", t.AgentID, agentID))
	}
	return nil
}

// checkListedTokens checks that a list of agent agentID's tokens holds only
// tokens of that agent.
func checkListedTokens(resp *gl.Response, agentID int64, list []*gl.AgentToken) error {
	for _, t := range list {
		switch {
		case t == nil || t.ID <= 0:
			return wrongObject(resp, http.StatusOK, "it lists a token without an ID")
		case t.AgentID != 0 && t.AgentID != agentID:
			return wrongObject(resp, http.StatusOK, fmt.Sprintf("it lists token %d of agent %d, not of agent %d", t.ID, t.AgentID, agentID))
		}
	}
	return nil
}

// newTokenProblem says why a create's answer does not hold the token created
// for agent agentID with this name and its secret, or "".
func newTokenProblem(resp *gl.Response, t *gl.AgentToken, agentID int64, name string) string {
	if t == nil {
		return newObjectProblem(resp, "token", 0, "")
	}
	mismatch := ""
	switch {
	case t.AgentID != agentID:
		mismatch = fmt.Sprintf("it describes a token of agent %d, not of agent %d", t.AgentID, agentID)
	case t.Name != name:
		mismatch = fmt.Sprintf("it describes token %q, not the token %q asked for", t.Name, name)
	case t.Token == "":
		mismatch = "it holds no token secret, which GitLab sends only in this answer"
	}
	return newObjectProblem(resp, "token", t.ID, mismatch)
}
