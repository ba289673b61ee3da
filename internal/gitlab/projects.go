package gitlab

import (
	"context"
	"strconv"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// ProjectID returns the numeric ID of a project written as a numeric ID or a
// full path. A numeric ID is returned without a request; a path is looked up
// once per provider run (GitLab follows renames on reads).
func (c *Client) ProjectID(ctx context.Context, project string) (int64, error) {
	if id, err := strconv.ParseInt(project, 10, 64); err == nil {
		return id, nil
	}
	c.mu.Lock()
	id, ok := c.projects[project]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	p, resp, err := c.api.Projects.GetProject(project, nil, gl.WithContext(ctx))
	if err != nil {
		return 0, explain(err, resp, "look up project "+strconv.Quote(project), Target{Project: project})
	}
	c.mu.Lock()
	c.projects[project] = p.ID
	c.mu.Unlock()
	return p.ID, nil
}
