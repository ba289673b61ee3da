package mockgitlab

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Offset pagination limits, as configured in GitLab (Kaminari).
const (
	defaultPerPage = 20
	maxPerPage     = 100
	maxCountLimit  = 10000 // above this GitLab omits X-Total, X-Total-Pages and rel="last"
)

// pageRequest is the effective page and page size, and the page size the Link URLs carry.
type pageRequest struct {
	page    int64
	perPage int64
	// linkPerPage is per_page as requested (Grape's default 20 when absent): GitLab's Link URLs merge
	// params[:per_page] into the query, so they keep a requested 500 while X-Per-Page says 100.
	linkPerPage int64
}

// parsePagination validates page and per_page as Grape and Kaminari do: non-integers are invalid,
// per_page=0 is rejected, a negative per_page falls back to the default, a per_page above 100 is clamped,
// and a page below 1 means page 1.
func parsePagination(p params, errs *[]string) pageRequest {
	pr := pageRequest{page: 1, perPage: defaultPerPage, linkPerPage: defaultPerPage}
	if n, ok := p.optionalInt("page", errs); ok && n > 1 {
		pr.page = n
	}
	if n, ok := p.optionalInt("per_page", errs); ok {
		pr.linkPerPage = n
		switch {
		case n == 0:
			*errs = append(*errs, "per_page has a value not allowed")
		case n > maxPerPage:
			pr.perPage = maxPerPage
		case n > 0:
			pr.perPage = n
		}
	}
	return pr
}

// paginate answers one page of items with GitLab's pagination headers. routeParams are the
// route parameters (id, agent_id) that GitLab includes in the Link URLs along with the query.
func paginate[T any](req *apiRequest, items []T, pr pageRequest, routeParams map[string]string) *response {
	return paginateRendered(req, items, pr, routeParams, func(item T) T { return item })
}

// paginateRendered is paginate for items that render renders for the answer:
// only the requested page is rendered, as GitLab loads and serializes only
// the page's rows, so that a page costs the same whatever the total.
func paginateRendered[S, T any](req *apiRequest, items []S, pr pageRequest, routeParams map[string]string, render func(S) T) *response {
	total := int64(len(items))
	totalPages := (total + pr.perPage - 1) / pr.perPage
	if totalPages < 1 {
		totalPages = 1
	}
	pageItems := []T{}
	if pr.page <= totalPages {
		start := (pr.page - 1) * pr.perPage
		end := min(start+pr.perPage, total)
		for i := start; i < end; i++ {
			pageItems = append(pageItems, render(items[i]))
		}
	}

	var next, prev string
	if pr.page < totalPages {
		next = strconv.FormatInt(pr.page+1, 10)
	}
	if pr.page > 1 && pr.page <= totalPages {
		prev = strconv.FormatInt(pr.page-1, 10)
	}

	resp := jsonResponse(http.StatusOK, pageItems)
	h := resp.header
	h.Set("X-Per-Page", strconv.FormatInt(pr.perPage, 10))
	h.Set("X-Page", strconv.FormatInt(pr.page, 10))
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)
	counted := total <= maxCountLimit
	if counted {
		h.Set("X-Total", strconv.FormatInt(total, 10))
		h.Set("X-Total-Pages", strconv.FormatInt(totalPages, 10))
	}

	var links []string
	link := func(page, rel string) {
		links = append(links, "<"+pageURL(req, page, pr.linkPerPage, routeParams)+`>; rel="`+rel+`"`)
	}
	if prev != "" {
		link(prev, "prev")
	}
	if next != "" {
		link(next, "next")
	}
	link("1", "first")
	if counted {
		link(strconv.FormatInt(totalPages, 10), "last")
	}
	h.Set("Link", strings.Join(links, ", "))
	return resp
}

// pageURL is the request URL (scheme and host from the request) with every query parameter, the route
// parameters and the given page and per_page, keys sorted as Rails' to_query sorts them. Values are
// query-escaped, so the URL contains no "," or ";" that would break Link parsing.
func pageURL(req *apiRequest, page string, perPage int64, routeParams map[string]string) string {
	q := url.Values{}
	for k, vs := range req.r.URL.Query() {
		if len(vs) > 0 {
			q.Set(k, vs[len(vs)-1])
		}
	}
	for k, v := range routeParams {
		q.Set(k, v)
	}
	q.Set("page", page)
	q.Set("per_page", strconv.FormatInt(perPage, 10))
	return requestBase(req.r) + req.r.URL.EscapedPath() + "?" + q.Encode()
}
