package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
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
	if err != nil {
		return nil, explain(err, resp, fmt.Sprintf("read agent %d", agentID), agentTarget(project, agentID))
	}
	return &a, nil
}

// ListAgents reads every agent of a project, all pages, ordered by name.
func (c *Client) ListAgents(ctx context.Context, project string) ([]*Agent, error) {
	agents, resp, err := listAll[*Agent](ctx, c, projectPath(project)+"/cluster_agents")
	if err != nil {
		return nil, explain(err, resp, "list agents", Target{Project: project})
	}
	return agents, nil
}

// RegisterAgent registers an agent in a project with one POST. The POST is
// never repeated: when its outcome is unknown (a server error or no answer),
// the project's agents are listed, and an agent of that name registered
// since the request began is the one it created and is returned, with
// recovered set. Agent names are unique in a project, so there is no doubt.
func (c *Client) RegisterAgent(ctx context.Context, project, name string) (agent *Agent, recovered bool, err error) {
	var a Agent
	opt := &gl.RegisterAgentOptions{Name: gl.Ptr(name)}
	start := time.Now()
	resp, err := c.send(ctx, http.MethodPost, projectPath(project)+"/cluster_agents", opt, &a)
	if err == nil {
		return &a, false, nil
	}
	explained := explain(err, resp, fmt.Sprintf("register agent %q", name), Target{Project: project})
	if status := StatusCode(explained); status != 0 && status < http.StatusInternalServerError {
		return nil, false, explained
	}
	agents, listErr := c.ListAgents(ctx, project)
	if listErr != nil {
		return nil, false, explained
	}
	for _, found := range agents {
		if found.Name == name && found.CreatedAt != nil && !found.CreatedAt.Before(start.Add(-reconcileWindow)) {
			return found, true, nil
		}
	}
	return nil, false, explained
}

// DeleteAgent deletes an agent; GitLab deletes its tokens and URL
// configuration with it. An agent that no longer exists is not an error.
func (c *Client) DeleteAgent(ctx context.Context, project string, agentID int64) error {
	resp, err := c.send(ctx, http.MethodDelete, agentPath(project, agentID), nil, nil)
	if err != nil && !isGone(resp) {
		return explain(err, resp, fmt.Sprintf("delete agent %d", agentID), agentTarget(project, agentID))
	}
	return nil
}
