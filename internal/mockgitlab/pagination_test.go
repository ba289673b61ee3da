package mockgitlab

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// parseLink parses a Link header the way client-go does (split on ",", then ";", rel after "=").
func parseLink(t *testing.T, header string) map[string]*url.URL {
	t.Helper()
	out := map[string]*url.URL{}
	if header == "" {
		return out
	}
	for _, entry := range strings.Split(header, ",") {
		parts := strings.Split(strings.TrimSpace(entry), ";")
		if len(parts) != 2 {
			t.Fatalf("malformed Link entry %q", entry)
		}
		kv := strings.Split(parts[1], "=")
		if len(kv) != 2 || strings.TrimSpace(kv[0]) != "rel" {
			t.Fatalf("malformed rel in %q", entry)
		}
		rel := strings.Trim(kv[1], `"`)
		raw := strings.Trim(parts[0], "<>")
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() {
			t.Fatalf("Link URL %q is not absolute: %v", raw, err)
		}
		out[rel] = u
	}
	return out
}

// checkLinkURL checks host, path, sorted keys and page/per_page of a Link URL.
func checkLinkURL(t *testing.T, e *testEnv, u *url.URL, path, page, perPage string) {
	t.Helper()
	if "http://"+u.Host != e.ts.URL || u.EscapedPath() != apiPrefix+path {
		t.Fatalf("Link URL %s: want host %s and path %s", u, e.ts.URL, apiPrefix+path)
	}
	var keys []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		keys = append(keys, strings.SplitN(kv, "=", 2)[0])
	}
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("query keys not sorted: %s", u.RawQuery)
	}
	q := u.Query()
	if q.Get("page") != page || q.Get("per_page") != perPage {
		t.Fatalf("Link URL %s: page=%s per_page=%s, want %s/%s", u, q.Get("page"), q.Get("per_page"), page, perPage)
	}
}

// pageHeaders are the pagination headers of a response.
type pageHeaders struct{ total, totalPages, perPage, page, next, prev string }

func headersOf(r result) pageHeaders {
	get := func(k string) string {
		v, ok := r.header[k]
		if !ok {
			return "<absent>"
		}
		return v[0]
	}
	return pageHeaders{get("X-Total"), get("X-Total-Pages"), get("X-Per-Page"), get("X-Page"), get("X-Next-Page"), get("X-Prev-Page")}
}

func TestPaginationAgents(t *testing.T) {
	e := newEnv(t)
	for i := range 205 {
		e.mustAgent(20, fmt.Sprintf("agent-%03d", i))
	}
	const path = "/projects/root%2Ftest/cluster_agents"
	names := func(r result) []string {
		var out []string
		for _, a := range decode[[]map[string]any](t, r) {
			out = append(out, a["name"].(string))
		}
		return out
	}

	t.Run("first page", func(t *testing.T) {
		r := e.get(path, tokDeveloper)
		expectStatus(t, r, 200)
		if h := headersOf(r); h != (pageHeaders{"205", "11", "20", "1", "2", ""}) {
			t.Fatalf("headers = %+v", h)
		}
		if n := names(r); len(n) != 20 || n[0] != "agent-000" || n[19] != "agent-019" {
			t.Fatalf("names = %v", n)
		}
		links := parseLink(t, r.header.Get("Link"))
		if _, ok := links["prev"]; ok {
			t.Fatal("page 1 has a prev link")
		}
		checkLinkURL(t, e, links["next"], path, "2", "20")
		checkLinkURL(t, e, links["first"], path, "1", "20")
		checkLinkURL(t, e, links["last"], path, "11", "20")
		if !strings.HasPrefix(r.header.Get("Link"), `<`) || !strings.Contains(r.header.Get("Link"), `>; rel="next", <`) {
			t.Fatalf("Link format: %s", r.header.Get("Link"))
		}
	})
	t.Run("middle page", func(t *testing.T) {
		r := e.get(path+"?page=5&per_page=20", tokDeveloper)
		if h := headersOf(r); h != (pageHeaders{"205", "11", "20", "5", "6", "4"}) {
			t.Fatalf("headers = %+v", h)
		}
		if n := names(r); n[0] != "agent-080" || n[19] != "agent-099" {
			t.Fatalf("names = %v", n)
		}
		links := parseLink(t, r.header.Get("Link"))
		checkLinkURL(t, e, links["prev"], path, "4", "20")
		checkLinkURL(t, e, links["next"], path, "6", "20")
		if len(links) != 4 {
			t.Fatalf("links = %v", links)
		}
	})
	t.Run("last page", func(t *testing.T) {
		r := e.get(path+"?page=11", tokDeveloper)
		if h := headersOf(r); h != (pageHeaders{"205", "11", "20", "11", "", "10"}) {
			t.Fatalf("headers = %+v", h)
		}
		if n := names(r); len(n) != 5 || n[4] != "agent-204" {
			t.Fatalf("names = %v", n)
		}
		links := parseLink(t, r.header.Get("Link"))
		if _, ok := links["next"]; ok {
			t.Fatal("last page has a next link")
		}
		checkLinkURL(t, e, links["prev"], path, "10", "20")
	})
	t.Run("out of range", func(t *testing.T) {
		r := e.get(path+"?page=99", tokDeveloper)
		expect(t, r, 200, "[]")
		if h := headersOf(r); h != (pageHeaders{"205", "11", "20", "99", "", ""}) {
			t.Fatalf("headers = %+v", h)
		}
	})
	t.Run("per_page clamped", func(t *testing.T) {
		r := e.get(path+"?per_page=500", tokDeveloper)
		if h := headersOf(r); h != (pageHeaders{"205", "3", "100", "1", "2", ""}) {
			t.Fatalf("headers = %+v", h)
		}
		if n := names(r); len(n) != 100 {
			t.Fatalf("%d items", len(n))
		}
		// GitLab's Link URLs merge the requested per_page, while X-Per-Page says what was served.
		links := parseLink(t, r.header.Get("Link"))
		checkLinkURL(t, e, links["next"], path, "2", "500")
		checkLinkURL(t, e, links["last"], path, "3", "500")
	})
	t.Run("page below 1 and negative per_page", func(t *testing.T) {
		r := e.get(path+"?page=0&per_page=-5", tokDeveloper)
		if h := headersOf(r); h != (pageHeaders{"205", "11", "20", "1", "2", ""}) {
			t.Fatalf("headers = %+v", h)
		}
		checkLinkURL(t, e, parseLink(t, r.header.Get("Link"))["next"], path, "2", "-5")
	})
	t.Run("per_page absent", func(t *testing.T) {
		r := e.get(path+"?page=2", tokDeveloper)
		checkLinkURL(t, e, parseLink(t, r.header.Get("Link"))["next"], path, "3", "20")
	})
	t.Run("follow next links", func(t *testing.T) {
		// Like client-go's Scan: the next link's query replaces the request's.
		var all []string
		next := apiPrefix + path + "?per_page=50"
		for pages := 0; next != ""; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			r := e.get(next, tokDeveloper)
			expectStatus(t, r, 200)
			all = append(all, names(r)...)
			next = ""
			if u, ok := parseLink(t, r.header.Get("Link"))["next"]; ok {
				next = u.RequestURI()
			}
		}
		if len(all) != 205 || all[204] != "agent-204" {
			t.Fatalf("collected %d agents", len(all))
		}
	})
	t.Run("invalid parameters", func(t *testing.T) {
		expect(t, e.get(path+"?per_page=0", tokDeveloper), 400, `{"error":"per_page has a value not allowed"}`)
		expect(t, e.get(path+"?page=abc", tokDeveloper), 400, `{"error":"page is invalid"}`)
		expect(t, e.get(path+"?per_page=1.5", tokDeveloper), 400, `{"error":"per_page is invalid"}`)
		expect(t, e.get(path+"?page=x&per_page=y", tokDeveloper), 400, `{"error":"page is invalid, per_page is invalid"}`)
		// Parameter validation comes before the project lookup.
		expect(t, e.get("/projects/999/cluster_agents?page=x", tokDeveloper), 400, `{"error":"page is invalid"}`)
	})
}

func TestPaginationEmptyAndTokens(t *testing.T) {
	e := newEnv(t)
	r := e.get("/projects/20/cluster_agents", tokDeveloper)
	expect(t, r, 200, "[]")
	if h := headersOf(r); h != (pageHeaders{"0", "1", "20", "1", "", ""}) {
		t.Fatalf("headers = %+v", h)
	}
	links := parseLink(t, r.header.Get("Link"))
	checkLinkURL(t, e, links["first"], "/projects/20/cluster_agents", "1", "20")
	checkLinkURL(t, e, links["last"], "/projects/20/cluster_agents", "1", "20")

	a := e.mustAgent(20, "agent-1")
	for _, n := range []string{"one", "two"} {
		if _, err := e.srv.CreateToken(a.ID, n, "", 2); err != nil {
			t.Fatal(err)
		}
	}
	tokPath := fmt.Sprintf("/projects/20/cluster_agents/%d/tokens", a.ID)
	r = e.get(tokPath+"?per_page=1", tokDeveloper)
	if h := headersOf(r); h != (pageHeaders{"2", "2", "1", "1", "2", ""}) {
		t.Fatalf("token headers = %+v", h)
	}
	checkLinkURL(t, e, parseLink(t, r.header.Get("Link"))["next"], tokPath, "2", "1")
	expect(t, e.get(tokPath+"?per_page=0", tokDeveloper), 400, `{"error":"per_page has a value not allowed"}`)
	expect(t, e.get("/projects/20/cluster_agents/x/tokens?page=y", tokDeveloper), 400, `{"error":"agent_id is invalid, page is invalid"}`)
}
