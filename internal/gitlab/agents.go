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

// Agent is an agent for Kubernetes as GitLab returns it. client-go's Agent
// lacks is_receptive, which GitLab EE (and GitLab.com) include.
type Agent struct {
	gl.Agent
	IsReceptive *bool `json:"is_receptive"`
}

func agentTarget(project string, agentID int64) Target {
	return Target{Project: project, Agent: "agent " + strconv.FormatInt(agentID, 10)}
}

// GetAgent reads one agent.
func (c *Client) GetAgent(ctx context.Context, project string, agentID int64) (*Agent, error) {
	var a Agent
	resp, err := c.send(ctx, http.MethodGet, agentPath(project, agentID), nil, &a)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		if problem := objectProblem(resp, "agent", a.ID, agentID); problem != "" {
			err = wrongObject(resp, http.StatusOK, problem)
		}
	}
	if err != nil {
		explained := explain(err, resp, fmt.Sprintf("read agent %d", agentID), agentTarget(project, agentID))
		if isMissing(explained) {
			return nil, c.confirmAgentGone(ctx, project, agentID, explained)
		}
		return nil, explained
	}
	c.rememberProject(project, a.ConfigProject.ID)
	return &a, nil
}

// confirmAgentGone follows GitLab's 404 for an agent, which GitLab also
// answers to callers who may not read agents. The agent is gone only if the
// caller may list the project's agents (one item is enough to know);
// otherwise the error says whether the object exists is unknown and which
// role reading needs.
func (c *Client) confirmAgentGone(ctx context.Context, project string, agentID int64, notFound error) error {
	var page []*Agent
	resp, err := c.send(ctx, http.MethodGet, projectPath(project)+"/cluster_agents", &gl.ListOptions{PerPage: 1}, &page)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		return markGone(notFound)
	}
	return c.notVisibleError(notFound, explain(err, resp, "list agents", Target{Project: project}),
		fmt.Sprintf("agent %d", agentID), project)
}

// notVisibleError explains a 404 for an object that GitLab did not show to
// be gone, because the check of the caller's access failed too.
func (c *Client) notVisibleError(notFound, check error, object, project string) error {
	var e *Error
	if !errors.As(notFound, &e) {
		return notFound
	}
	out := *e
	out.missing, out.gone = false, false
	out.Answer = AnswerOf(check)
	out.Summary = fmt.Sprintf("Cannot tell whether %s still exists", object)
	checkSaid := ""
	if m := Message(check); m != "" {
		checkSaid = fmt.Sprintf(" (GitLab said %q)", m)
	}
	if StatusCode(check) == http.StatusNotFound {
		out.Detail = fmt.Sprintf("GitLab answered 404 for %s of project %q, and also refused to list the project's "+
			"agents%s: the token's user may not see agents in this project, so whether %s was deleted is unknown. "+
			"It is kept in state and nothing was changed. Reading agents and tokens needs at least the Developer "+
			"role on the project, creating and deleting them Maintainer. Check which user the token belongs to "+
			"(GET %s/user with the token), that user's role in the project (Manage > Members), and that the "+
			"client's token is the one you meant.", object, project, checkSaid, object, c.baseURL)
		out.Check = []Setting{SettingToken}
		return &out
	}
	out.Detail = fmt.Sprintf("GitLab answered 404 for %s of project %q, and checking whether the token's user may "+
		"see it failed: %s It is kept in state and nothing was changed; run again once GitLab answers.",
		object, project, errorDetail(check))
	return &out
}

// errorDetail is the explanation of an *Error, or the error's text.
func errorDetail(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return err.Error()
}

// ListAgents reads every agent of a project, all pages, ordered by name.
func (c *Client) ListAgents(ctx context.Context, project string) ([]*Agent, error) {
	var agents []*Agent
	err := c.ScanAgents(ctx, project, func(page []Agent) bool {
		for i := range page {
			agents = append(agents, &page[i])
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return agents, nil
}

// ScanAgents reads every agent of a project, ordered by name, and hands them
// to fn one page at a time, in order, until fn returns false. fn may keep
// nothing of a page but what it needs. Pages are read several at a time
// when GitLab tells how many there are (see listPages).
func (c *Client) ScanAgents(ctx context.Context, project string, fn func(page []Agent) bool) error {
	first, noID := true, false
	resp, err := listPages(ctx, c, projectPath(project)+"/cluster_agents", func(page []Agent) bool {
		for i := range page {
			if page[i].ID <= 0 {
				noID = true
				return false
			}
		}
		if first && len(page) > 0 {
			c.rememberProject(project, page[0].ConfigProject.ID)
			first = false
		}
		return fn(page)
	})
	if err == nil && noID {
		err = wrongObject(resp, http.StatusOK, "it lists an agent without an ID")
	}
	if err != nil {
		return explain(err, resp, "list agents", Target{Project: project})
	}
	return nil
}

// reconcileWindow bounds how long before a registration whose outcome is
// unknown an agent of the same name may have been created to be taken for the
// one that registration made (it allows for clock skew between Terraform and
// GitLab; agent names are unique in a project, so there is no other doubt).
const reconcileWindow = 5 * time.Minute

// nameTakenMessage is GitLab's validation message for a duplicate agent name.
const nameTakenMessage = "Name has already been taken"

// RegisterAgent registers an agent in a project with one POST. The POST is
// never repeated: when its outcome is unknown (a server error or no answer),
// the project's agents are listed, and an agent of that name registered
// since the request began is the one it created and is returned, with
// recovered set. Agent names are unique in a project, so there is no doubt.
//
// When the outcome stays unknown (the lookup failed too, or the run was
// interrupted) the error has OutcomeUnknown set; when GitLab says the name is
// taken, it has ExistingID set to the agent of that name, if it was found.
// Either way the caller can tell the user how to adopt the agent.
func (c *Client) RegisterAgent(ctx context.Context, project, name string) (agent *Agent, recovered bool, err error) {
	var a Agent
	opt := &gl.RegisterAgentOptions{Name: gl.Ptr(name)}
	start := time.Now()
	var resp *gl.Response
	err = notSentContext(ctx)
	if err == nil {
		resp, err = c.send(ctx, http.MethodPost, projectPath(project)+"/cluster_agents", opt, &a)
	}
	if err = checkAnswer(resp, err, http.StatusCreated); err == nil {
		mismatch := ""
		if a.Name != name {
			mismatch = fmt.Sprintf("it describes agent %q, not the agent %q asked for", a.Name, name)
		}
		if problem := newObjectProblem(resp, "agent", a.ID, mismatch); problem != "" {
			err = wrongObject(resp, http.StatusCreated, problem)
		}
	}
	if err == nil {
		// A token or URL configuration for this agent, next, needs no project lookup.
		c.rememberProject(project, a.ConfigProject.ID)
		return &a, false, nil
	}
	explained := explain(err, resp, fmt.Sprintf("register agent %q", name), Target{Project: project})
	var e *Error
	if !errors.As(explained, &e) {
		return nil, false, explained
	}
	if e.NotSent {
		e.Detail += fmt.Sprintf(" Agent %q was not registered, and nothing is left behind: run again.", name)
		return nil, false, e
	}
	status := StatusCode(explained)
	if status == http.StatusBadRequest && strings.Contains(e.GitLabMessage, nameTakenMessage) {
		if found, lookupErr := c.findAgent(ctx, project, name); lookupErr == nil && found != nil {
			e.ExistingID = found.ID
		}
		return nil, false, e
	}
	if status != 0 && status < http.StatusInternalServerError && e.Answer == nil {
		return nil, false, explained
	}
	// No answer, a 5xx, or an answer that is not GitLab's: GitLab may have
	// registered the agent.
	e.OutcomeUnknown = true
	if IsInterrupted(explained) {
		return nil, false, e
	}
	found, lookupErr := c.findAgent(ctx, project, name)
	if lookupErr != nil {
		e.Detail += fmt.Sprintf(" Whether GitLab registered agent %q is unknown: looking for it failed too (%s).",
			name, errorDetail(lookupErr))
		return nil, false, e
	}
	if found != nil && found.CreatedAt != nil && !found.CreatedAt.Before(start.Add(-reconcileWindow)) {
		return found, true, nil
	}
	if found != nil {
		e.ExistingID = found.ID
		return nil, false, e
	}
	e.OutcomeUnknown = false
	e.Detail += fmt.Sprintf(" The project's agents were checked: GitLab registered no agent named %q, so nothing "+
		"is left behind. Run again to register it.", name)
	return nil, false, e
}

// findAgent looks an agent up by name among the project's agents; nil when
// there is none.
func (c *Client) findAgent(ctx context.Context, project, name string) (*Agent, error) {
	agents, err := c.ListAgents(ctx, project)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, nil
}

// DeleteAgent deletes an agent; GitLab deletes its tokens and URL
// configuration with it. An agent that no longer exists is not an error.
func (c *Client) DeleteAgent(ctx context.Context, project string, agentID int64) error {
	resp, err := c.send(ctx, http.MethodDelete, agentPath(project, agentID), nil, nil)
	if err = checkAnswer(resp, err, http.StatusNoContent); err != nil && !isGone(resp) {
		return explain(err, resp, fmt.Sprintf("delete agent %d", agentID), agentTarget(project, agentID))
	}
	return nil
}
