package gitlab

import (
	"context"
	"fmt"
	"net/http"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// maxPerPage is GitLab's largest page size; lists ask for it to need fewer requests.
const maxPerPage = 100

// projectPath returns the escaped API path of a project, e.g. projects/root%2Ftest.
func projectPath(project string) string {
	return "projects/" + gl.PathEscape(project)
}

// send makes one request through client-go's request machinery (same
// authentication, retries, logging and error handling as its own services)
// and decodes the answer into v.
func (c *Client) send(ctx context.Context, method, path string, opt, v any, extra ...gl.RequestOptionFunc) (*gl.Response, error) {
	req, err := c.api.NewRequest(method, path, opt, append([]gl.RequestOptionFunc{gl.WithContext(ctx)}, extra...))
	if err != nil {
		return nil, err
	}
	return c.api.Do(req, v)
}

// listAll reads every page of a paginated list, following GitLab's Link and
// X-Next-Page headers with client-go's pagination support.
func listAll[T any](ctx context.Context, c *Client, path string) ([]T, *gl.Response, error) {
	var last *gl.Response
	items, err := gl.ScanAndCollect(func(page gl.PaginationOptionFunc) ([]T, *gl.Response, error) {
		var batch []T
		resp, err := c.send(ctx, http.MethodGet, path, &gl.ListOptions{PerPage: maxPerPage}, &batch, page)
		last = resp
		return batch, resp, err
	})
	return items, last, err
}

func agentPath(project string, agentID int64) string {
	return fmt.Sprintf("%s/cluster_agents/%d", projectPath(project), agentID)
}
