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

// pageWindow is how many pages of a list are read at a time once the first
// page has told how many there are.
const pageWindow = 4

// listPages reads every page of a paginated list and hands each page's items
// to fn, in order and one page at a time, so that a caller can keep what it
// needs of a page and drop the rest; it stops when fn returns false. When the
// first page carries X-Total-Pages, the other pages are read up to pageWindow
// at a time (the ones ahead wait in memory for their turn); otherwise, as
// GitLab omits the totals above 10,000 rows, one after another by the
// X-Next-Page and Link headers. It returns the response of the page that
// failed or the last one read.
func listPages[T any](ctx context.Context, c *Client, path string, fn func(items []T) bool) (*gl.Response, error) {
	fetch := func(ctx context.Context, page ...gl.RequestOptionFunc) ([]T, *gl.Response, error) {
		var items []T
		resp, err := c.send(ctx, http.MethodGet, path, &gl.ListOptions{PerPage: maxPerPage}, &items, page...)
		return items, resp, checkAnswer(resp, err, http.StatusOK)
	}
	items, resp, err := fetch(ctx)
	if err != nil || !fn(items) {
		return resp, err
	}
	if resp.TotalPages == 0 {
		for {
			next, ok := gl.WithNext(resp)
			if !ok {
				return resp, nil
			}
			if items, resp, err = fetch(ctx, next); err != nil || !fn(items) {
				return resp, err
			}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the pages still being read when one fails or fn stops
	type result struct {
		items []T
		resp  *gl.Response
		err   error
	}
	pending := map[int64]chan result{}
	start := func(page int64) {
		ch := make(chan result, 1)
		pending[page] = ch
		go func() {
			items, resp, err := fetch(ctx, gl.WithOffsetPaginationParameters(page))
			ch <- result{items, resp, err}
		}()
	}
	total, next := resp.TotalPages, int64(2)
	for ; next <= total && next < 2+pageWindow; next++ {
		start(next)
	}
	for page := int64(2); page <= total; page++ {
		r := <-pending[page]
		delete(pending, page)
		if r.err != nil {
			return r.resp, r.err
		}
		if next <= total {
			start(next)
			next++
		}
		if resp = r.resp; !fn(r.items) {
			return resp, nil
		}
	}
	return resp, nil
}

func agentPath(project string, agentID int64) string {
	return fmt.Sprintf("%s/cluster_agents/%d", projectPath(project), agentID)
}
