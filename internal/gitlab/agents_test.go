package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// paginatedAgents serves total agents of project root/test, named in order,
// in pages as GitLab does (§1.6 of the reference): with X-Total and
// X-Total-Pages when withTotals (GitLab omits them above 10,000 rows).
func paginatedAgents(t *testing.T, reqs *requestLog, total int, withLink, withNextPage, withTotals bool) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		const path = "/api/v4/projects/root%2Ftest/cluster_agents"
		if r.Method != http.MethodGet || r.URL.EscapedPath() != path {
			writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
			return
		}
		q := r.URL.Query()
		perPage, err := strconv.Atoi(q.Get("per_page"))
		if err != nil || perPage <= 0 {
			perPage = 20
		}
		perPage = min(perPage, 100)
		page := 1
		if p := q.Get("page"); p != "" {
			page, _ = strconv.Atoi(p)
		}
		pages := max((total+perPage-1)/perPage, 1)
		var items []string
		for i := (page - 1) * perPage; i < min(page*perPage, total); i++ {
			items = append(items, fmt.Sprintf(`{"id":%d,"name":"agent-%03d","config_project":{"id":7,"path_with_namespace":"root/test"},"created_at":"2022-04-20T20:42:40.221Z","created_by_user_id":1}`, i+1, i))
		}
		link := func(p int) string {
			return fmt.Sprintf("<http://%s%s?id=root%%2Ftest&page=%d&per_page=%d>", r.Host, path, p, perPage)
		}
		var links []string
		next, prev := "", ""
		if page > 1 && page <= pages {
			prev = strconv.Itoa(page - 1)
			links = append(links, link(page-1)+`; rel="prev"`)
		}
		if page < pages {
			next = strconv.Itoa(page + 1)
			links = append(links, link(page+1)+`; rel="next"`)
		}
		links = append(links, link(1)+`; rel="first"`)
		h := w.Header()
		if withTotals {
			links = append(links, link(pages)+`; rel="last"`)
			h.Set("X-Total", strconv.Itoa(total))
			h.Set("X-Total-Pages", strconv.Itoa(pages))
		}
		h.Set("X-Per-Page", strconv.Itoa(perPage))
		h.Set("X-Page", strconv.Itoa(page))
		if withNextPage {
			h.Set("X-Next-Page", next)
		}
		h.Set("X-Prev-Page", prev)
		if withLink {
			h.Set("Link", strings.Join(links, ", "))
		}
		writeJSON(w, http.StatusOK, "["+strings.Join(items, ",")+"]")
	})
}

func TestListAgentsPagination(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]struct{ link, nextPage, totals bool }{
		"totals":                          {true, true, true},
		"no totals, Link and X-Next-Page": {true, true, false},
		"no totals, Link only":            {true, false, false},
		"no totals, X-Next-Page only":     {false, true, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var reqs requestLog
			srv := newServer(t, paginatedAgents(t, &reqs, 250, v.link, v.nextPage, v.totals))
			c := newTestClient(t, srv.URL, 0)
			agents, err := c.ListAgents(context.Background(), "root/test")
			if err != nil {
				t.Fatalf("ListAgents: %v", err)
			}
			if len(agents) != 250 {
				t.Fatalf("ListAgents returned %d agents, want 250", len(agents))
			}
			for i, a := range agents {
				if a.ID != int64(i+1) || a.Name != fmt.Sprintf("agent-%03d", i) {
					t.Fatalf("agent %d = {ID: %d, Name: %q}, want {ID: %d, Name: agent-%03d}", i, a.ID, a.Name, i+1, i)
				}
			}
			got := reqs.all()
			if len(got) != 3 {
				t.Fatalf("ListAgents made %d requests, want 3", len(got))
			}
			pages := map[string]bool{}
			for i, r := range got {
				q, _ := url.ParseQuery(r.Query)
				if q.Get("per_page") != "100" {
					t.Errorf("request %d: per_page = %q, want 100 (query %q)", i+1, q.Get("per_page"), r.Query)
				}
				if len(q["page"]) > 1 || len(q["per_page"]) > 1 {
					t.Errorf("request %d: repeated pagination parameters in %q", i+1, r.Query)
				}
				page := q.Get("page")
				switch {
				case i == 0 && page != "" && page != "1":
					t.Errorf("the first request asks for page %q, want the first", page)
				case i > 0 && !v.totals && page != strconv.Itoa(i+1):
					// Without totals the pages are read one after another.
					t.Errorf("request %d: page = %q, want %d", i+1, page, i+1)
				}
				pages[page] = true
			}
			if !pages["2"] || !pages["3"] {
				t.Errorf("pages requested: %v, want 2 and 3 after the first", pages)
			}
		})
	}
}

// TestListAgentsReadsPagesFourAtATime serves 25 pages with totals: once the
// first page has told how many there are, the others are read four at a
// time, never more, and the agents come back in order.
func TestListAgentsReadsPagesFourAtATime(t *testing.T) {
	t.Parallel()
	const total = 2450
	inner := paginatedAgents(t, &requestLog{}, total, true, true, true)
	var mu sync.Mutex
	inFlight, most := 0, 0
	four := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Query().Get("page"); p != "" && p != "1" {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			if inFlight == 4 && most == 4 {
				close(four)
			}
			mu.Unlock()
			// Hold the first pages until four are being read at once.
			select {
			case <-four:
			case <-time.After(10 * time.Second):
			}
			defer func() {
				mu.Lock()
				inFlight--
				mu.Unlock()
			}()
		}
		inner.ServeHTTP(w, r)
	}))
	agents, err := newTestClient(t, srv.URL, 0).ListAgents(context.Background(), "root/test")
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if len(agents) != total {
		t.Fatalf("ListAgents returned %d agents, want %d", len(agents), total)
	}
	for i, a := range agents {
		if a.ID != int64(i+1) {
			t.Fatalf("agent %d has ID %d, want %d: pages out of order", i, a.ID, i+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 4 {
		t.Errorf("at most %d pages were read at once, want 4", most)
	}
}

// TestListAgentsWithoutTotalsReadsOnePageAtATime: without X-Total-Pages
// (GitLab above 10,000 rows) the next page is known only from the last one.
func TestListAgentsWithoutTotalsReadsOnePageAtATime(t *testing.T) {
	t.Parallel()
	inner := paginatedAgents(t, &requestLog{}, 1234, true, true, false)
	var mu sync.Mutex
	inFlight, most, requests := 0, 0, 0
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		requests++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight--
			mu.Unlock()
		}()
		inner.ServeHTTP(w, r)
	}))
	agents, err := newTestClient(t, srv.URL, 0).ListAgents(context.Background(), "root/test")
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if len(agents) != 1234 || agents[0].ID != 1 || agents[1233].ID != 1234 {
		t.Fatalf("ListAgents returned %d agents, want 1234 in order", len(agents))
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 1 || requests != 13 {
		t.Errorf("%d requests, at most %d at once; want 13, one at a time", requests, most)
	}
}

// TestScanAgentsStops: a caller that has what it wants stops the reading.
func TestScanAgentsStops(t *testing.T) {
	t.Parallel()
	for _, totals := range []bool{true, false} {
		var reqs requestLog
		srv := newServer(t, paginatedAgents(t, &reqs, 1000, true, true, totals))
		pages := 0
		err := newTestClient(t, srv.URL, 0).ScanAgents(context.Background(), "root/test", func(page []Agent) bool {
			pages++
			return page[len(page)-1].ID < 200
		})
		if err != nil {
			t.Fatalf("ScanAgents: %v", err)
		}
		if pages != 2 {
			t.Errorf("totals %v: fn saw %d pages, want 2", totals, pages)
		}
		// Reading ahead may have asked for a few more pages, never all ten.
		if n := reqs.count(); n < 2 || n > 2+pageWindow {
			t.Errorf("totals %v: %d requests, want 2 to %d", totals, n, 2+pageWindow)
		}
	}
}

func TestListAgentsEmptyAndSinglePage(t *testing.T) {
	t.Parallel()
	for _, total := range []int{0, 1, 100} {
		var reqs requestLog
		srv := newServer(t, paginatedAgents(t, &reqs, total, true, true, true))
		agents, err := newTestClient(t, srv.URL, 0).ListAgents(context.Background(), "root/test")
		if err != nil {
			t.Fatalf("ListAgents (%d agents): %v", total, err)
		}
		if len(agents) != total {
			t.Errorf("ListAgents returned %d agents, want %d", len(agents), total)
		}
		if n := reqs.count(); n != 1 {
			t.Errorf("%d agents: %d requests, want 1", total, n)
		}
	}
}

func TestListAgentsErrorOnLaterPage(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	inner := paginatedAgents(t, &requestLog{}, 250, true, true, true)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		if r.URL.Query().Get("page") == "2" {
			writeJSON(w, http.StatusInternalServerError, `{"message":"500 Internal Server Error"}`)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	agents, err := newTestClient(t, srv.URL, 0).ListAgents(context.Background(), "root/test")
	if agents != nil {
		t.Errorf("ListAgents returned %d agents with an error", len(agents))
	}
	e := asError(t, err)
	if e.Status != http.StatusInternalServerError {
		t.Errorf("Status = %d, want 500", e.Status)
	}
	assertContains(t, "Summary", e.Summary, "list agents")
	// Pages 2 and 3 are read at once; page 3 may or may not have been asked for.
	if n := reqs.count(); n < 2 || n > 3 {
		t.Errorf("%d requests, want 2 or 3", n)
	}
}

func TestProjectPathsEscaped(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		switch r.Method {
		case http.MethodGet:
			if strings.HasSuffix(r.URL.EscapedPath(), "/cluster_agents") {
				writeJSON(w, http.StatusOK, `[]`)
				return
			}
			id := r.URL.EscapedPath()[strings.LastIndex(r.URL.EscapedPath(), "/")+1:]
			writeJSON(w, http.StatusOK, strings.Replace(agentJSON, `"id":42`, `"id":`+id, 1))
		case http.MethodPost:
			writeJSON(w, http.StatusCreated, agentJSON)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	c := newTestClient(t, srv.URL, 0)
	ctx := context.Background()

	cases := []struct {
		do   func() error
		want string
	}{
		{func() error { _, err := c.ListAgents(ctx, "root/test"); return err }, "GET /api/v4/projects/root%2Ftest/cluster_agents"},
		{func() error { _, err := c.ListAgents(ctx, "my.group/sub/my.project"); return err }, "GET /api/v4/projects/my%2Egroup%2Fsub%2Fmy%2Eproject/cluster_agents"},
		{func() error { _, err := c.ListAgents(ctx, "7"); return err }, "GET /api/v4/projects/7/cluster_agents"},
		{func() error { _, err := c.GetAgent(ctx, "root/test", 42); return err }, "GET /api/v4/projects/root%2Ftest/cluster_agents/42"},
		{func() error { _, err := c.GetAgent(ctx, "a.b/c", 9007199254740993); return err }, "GET /api/v4/projects/a%2Eb%2Fc/cluster_agents/9007199254740993"},
		{func() error { _, _, err := c.RegisterAgent(ctx, "group/sub.group/proj", "agent-1"); return err }, "POST /api/v4/projects/group%2Fsub%2Egroup%2Fproj/cluster_agents"},
		{func() error { return c.DeleteAgent(ctx, "root/test", 42) }, "DELETE /api/v4/projects/root%2Ftest/cluster_agents/42"},
		{func() error { return c.DeleteAgent(ctx, "my group/p", 1) }, "DELETE /api/v4/projects/my%20group%2Fp/cluster_agents/1"},
	}
	for i, tc := range cases {
		if err := tc.do(); err != nil {
			t.Errorf("%s: %v", tc.want, err)
			continue
		}
		got := reqs.all()
		if len(got) != i+1 {
			t.Fatalf("%s: %d requests in all, want %d", tc.want, len(got), i+1)
		}
		if r := got[i]; r.Method+" "+r.EscapedPath != tc.want {
			t.Errorf("request = %s %s, want %s", r.Method, r.EscapedPath, tc.want)
		}
	}
}

func TestAgentDecoding(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/api/v4/projects/root%2Ftest/cluster_agents":
			writeJSON(w, http.StatusOK, `[
				{"id":1,"name":"a","is_receptive":true},
				{"id":2,"name":"b","is_receptive":false},
				{"id":3,"name":"c"},
				{"id":4,"name":"d","is_receptive":null}
			]`)
		case "/api/v4/projects/root%2Ftest/cluster_agents/42":
			writeJSON(w, http.StatusOK, `{"id":42,"name":"agent-1","config_project":{"id":20,"description":null,"name":"test","name_with_namespace":"Administrator / test","path":"test","path_with_namespace":"root/test","created_at":"2022-03-20T20:42:40.221Z"},"created_at":"2022-04-20T20:42:40.221Z","created_by_user_id":42,"is_receptive":true}`)
		default:
			writeJSON(w, http.StatusNotFound, `{"error":"404 Not Found"}`)
		}
	}))
	c := newTestClient(t, srv.URL, 0)
	ctx := context.Background()

	agents, err := c.ListAgents(ctx, "root/test")
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 4 {
		t.Fatalf("%d agents, want 4", len(agents))
	}
	if a := agents[0]; a.IsReceptive == nil || !*a.IsReceptive {
		t.Errorf("is_receptive true decoded as %v", a.IsReceptive)
	}
	if a := agents[1]; a.IsReceptive == nil || *a.IsReceptive {
		t.Errorf("is_receptive false decoded as %v", a.IsReceptive)
	}
	if a := agents[2]; a.IsReceptive != nil {
		t.Errorf("absent is_receptive decoded as %v, want nil", *a.IsReceptive)
	}
	if a := agents[3]; a.IsReceptive != nil {
		t.Errorf("null is_receptive decoded as %v, want nil", *a.IsReceptive)
	}

	a, err := c.GetAgent(ctx, "root/test", 42)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 42 || a.Name != "agent-1" || a.CreatedByUserID != 42 {
		t.Errorf("agent = %+v", a.Agent)
	}
	if a.ConfigProject.ID != 20 || a.ConfigProject.PathWithNamespace != "root/test" || a.ConfigProject.Description != "" {
		t.Errorf("config_project = %+v", a.ConfigProject)
	}
	wantCreated := time.Date(2022, 4, 20, 20, 42, 40, 221e6, time.UTC)
	if a.CreatedAt == nil || !a.CreatedAt.Equal(wantCreated) {
		t.Errorf("created_at = %v, want %v", a.CreatedAt, wantCreated)
	}
	if a.IsReceptive == nil || !*a.IsReceptive {
		t.Errorf("is_receptive = %v, want true", a.IsReceptive)
	}
}

func TestRegisterAgent(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		writeJSON(w, http.StatusCreated, `{"id":43,"name":"agent-1","config_project":{"id":7},"created_at":"2024-01-02T03:04:05.000Z","created_by_user_id":1,"is_receptive":false}`)
	}))
	a, _, err := newTestClient(t, srv.URL, 5).RegisterAgent(context.Background(), "root/test", "agent-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 43 || a.Name != "agent-1" || a.ConfigProject.ID != 7 || a.IsReceptive == nil || *a.IsReceptive {
		t.Errorf("agent = %+v, is_receptive %v", a.Agent, a.IsReceptive)
	}
	got := reqs.all()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	r := got[0]
	if r.Method != http.MethodPost || r.EscapedPath != "/api/v4/projects/root%2Ftest/cluster_agents" {
		t.Errorf("request = %s %s", r.Method, r.EscapedPath)
	}
	if r.Body != `{"name":"agent-1"}` {
		t.Errorf("body = %q, want {\"name\":\"agent-1\"}", r.Body)
	}
	if r.Query != "" {
		t.Errorf("query = %q, want none", r.Query)
	}
}
