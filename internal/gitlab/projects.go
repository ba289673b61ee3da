package gitlab

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// projectCache maps projects written as full paths to their numeric IDs for
// the life of the client (one provider process), so that a path costs at
// most one lookup, however many resources name it and however many of them
// are planned or applied at once.
type projectCache struct {
	mu      sync.Mutex
	ids     map[string]int64
	lookups map[string]*projectLookup
}

// projectLookup is one GET /projects/:path, shared by every caller that
// wants that path while it runs.
type projectLookup struct {
	done    chan struct{} // closed when id or err is set
	id      int64
	err     error
	callers int // how many callers share it (for tests)
}

// ProjectID returns the numeric ID of a project written as a numeric ID or a
// full path. A numeric ID is returned without a request. A path is looked up
// once per provider run, and not at all when an answer about one of the
// project's agents has already told its ID (GitLab follows renames on reads);
// callers asking for the same path at the same time share one request, and
// a failed lookup is not remembered.
func (c *Client) ProjectID(ctx context.Context, project string) (int64, error) {
	if id, err := strconv.ParseInt(project, 10, 64); err == nil {
		return id, nil
	}
	pc := &c.projects
	pc.mu.Lock()
	if id, ok := pc.ids[project]; ok {
		pc.mu.Unlock()
		return id, nil
	}
	l := pc.lookups[project]
	if l == nil {
		l = &projectLookup{done: make(chan struct{})}
		if pc.lookups == nil {
			pc.lookups = map[string]*projectLookup{}
		}
		pc.lookups[project] = l
		// Not cancelled with this caller's request: others may be waiting for it.
		go c.lookUpProject(context.WithoutCancel(ctx), project, l)
	}
	l.callers++
	pc.mu.Unlock()
	select {
	case <-l.done:
		return l.id, l.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *Client) lookUpProject(ctx context.Context, project string, l *projectLookup) {
	p, resp, err := c.api.Projects.GetProject(project, nil, gl.WithContext(ctx))
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		id := int64(0)
		if p != nil {
			id = p.ID
		}
		if problem := projectProblem(resp, project, id); problem != "" {
			err = wrongObject(resp, http.StatusOK, problem)
		}
	}
	pc := &c.projects
	pc.mu.Lock()
	if err != nil {
		l.err = explain(err, resp, "look up project "+strconv.Quote(project), Target{Project: project})
	} else {
		l.id = p.ID
		pc.remember(project, p.ID)
	}
	delete(pc.lookups, project)
	pc.mu.Unlock()
	close(l.done)
}

// rememberProject records the numeric ID GitLab gave, in an answer about
// something in a project, for the project as it was written in the request.
func (c *Client) rememberProject(project string, id int64) {
	if _, err := strconv.ParseInt(project, 10, 64); err == nil || id <= 0 {
		return
	}
	c.projects.mu.Lock()
	c.projects.remember(project, id)
	c.projects.mu.Unlock()
}

// remember records a path's ID; the caller holds mu.
func (pc *projectCache) remember(project string, id int64) {
	if pc.ids == nil {
		pc.ids = map[string]int64{}
	}
	pc.ids[project] = id
}
