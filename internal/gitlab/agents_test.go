package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// paginatedAgents serves total agents of project root/test, named in order,
// in pages as GitLab does (§1.6 of the reference).
func paginatedAgents(t *testing.T, reqs *requestLog, total int, withLink, withNextPage bool) http.Handler {
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
		links = append(links, link(1)+`; rel="first"`, link(pages)+`; rel="last"`)
		h := w.Header()
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(pages))
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
	for name, v := range map[string]struct{ link, nextPage bool }{
		"Link and X-Next-Page": {true, true},
		"Link only":            {true, false},
		"X-Next-Page only":     {false, true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var reqs requestLog
			srv := newServer(t, paginatedAgents(t, &reqs, 250, v.link, v.nextPage))
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
			for i, r := range got {
				q, _ := url.ParseQuery(r.Query)
				if q.Get("per_page") != "100" {
					t.Errorf("request %d: per_page = %q, want 100 (query %q)", i+1, q.Get("per_page"), r.Query)
				}
				wantPage := strconv.Itoa(i + 1)
				if p := q.Get("page"); p != wantPage && (i != 0 || p != "") {
					t.Errorf("request %d: page = %q, want %s", i+1, p, wantPage)
				}
				if len(q["page"]) > 1 || len(q["per_page"]) > 1 {
					t.Errorf("request %d: repeated pagination parameters in %q", i+1, r.Query)
				}
			}
		})
	}
}

func TestListAgentsEmptyAndSinglePage(t *testing.T) {
	t.Parallel()
	for _, total := range []int{0, 1, 100} {
		var reqs requestLog
		srv := newServer(t, paginatedAgents(t, &reqs, total, true, true))
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
	inner := paginatedAgents(t, &requestLog{}, 250, true, true)
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
	if n := reqs.count(); n != 2 {
		t.Errorf("%d requests, want 2", n)
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
			writeJSON(w, http.StatusOK, agentJSON)
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
