package gitlab

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

func projectHandler(t *testing.T, reqs *requestLog) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.record(r)
		switch r.URL.EscapedPath() {
		case "/api/v4/projects/root%2Ftest":
			writeJSON(w, http.StatusOK, `{"id":7,"path_with_namespace":"root/test"}`)
		case "/api/v4/projects/my%2Egroup%2Fmy%2Eproject":
			writeJSON(w, http.StatusOK, `{"id":8,"path_with_namespace":"my.group/my.project"}`)
		default:
			writeJSON(w, http.StatusNotFound, `{"message":"404 Project Not Found"}`)
		}
	})
}

func TestProjectIDNumericNeedsNoRequest(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, projectHandler(t, &reqs))
	c := newTestClient(t, srv.URL, 0)
	for in, want := range map[string]int64{"42": 42, "1": 1, "9007199254740993": 9007199254740993} {
		got, err := c.ProjectID(context.Background(), in)
		if err != nil || got != want {
			t.Errorf("ProjectID(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if n := reqs.count(); n != 0 {
		t.Errorf("numeric IDs made %d requests, want 0", n)
	}
}

func TestProjectIDPathResolvedOnceAndCached(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, projectHandler(t, &reqs))
	c := newTestClient(t, srv.URL, 0)
	ctx := context.Background()

	for i := range 3 {
		id, err := c.ProjectID(ctx, "root/test")
		if err != nil || id != 7 {
			t.Fatalf("call %d: ProjectID(root/test) = %d, %v; want 7", i+1, id, err)
		}
	}
	got := reqs.all()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1 (later calls must use the cache)", len(got))
	}
	if got[0].Method != http.MethodGet || got[0].EscapedPath != "/api/v4/projects/root%2Ftest" {
		t.Errorf("request = %s %s, want GET /api/v4/projects/root%%2Ftest", got[0].Method, got[0].EscapedPath)
	}

	// Another path is another lookup, escaped with dots as %2E.
	id, err := c.ProjectID(ctx, "my.group/my.project")
	if err != nil || id != 8 {
		t.Fatalf("ProjectID(my.group/my.project) = %d, %v; want 8", id, err)
	}
	if n := reqs.count(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestProjectIDErrorNotCached(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	srv := newServer(t, projectHandler(t, &reqs))
	c := newTestClient(t, srv.URL, 0)
	for range 2 {
		_, err := c.ProjectID(context.Background(), "root/missing")
		e := asError(t, err)
		// A missing project is a 404 but not "the object is gone".
		if IsNotFound(err) || StatusCode(err) != 404 {
			t.Errorf("IsNotFound = %v, StatusCode = %d for %v", IsNotFound(err), StatusCode(err), err)
		}
		assertContains(t, "Detail", described(e), `"root/missing"`, "[check project]")
		assertContains(t, "Summary", e.Summary, `look up project "root/missing"`)
	}
	if n := reqs.count(); n != 2 {
		t.Errorf("%d requests, want 2: a failed lookup must not be cached", n)
	}
}

// TestProjectIDConcurrent: callers that want the same path at the same time
// share one request, and one that gives up does not fail the others.
func TestProjectIDConcurrent(t *testing.T) {
	t.Parallel()
	var reqs requestLog
	release := make(chan struct{})
	inner := projectHandler(t, &reqs)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		inner.ServeHTTP(w, r)
	}))
	c := newTestClient(t, srv.URL, 0)
	const callers = 8
	impatient, giveUp := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range callers {
		ctx := context.Background()
		if i == 0 {
			ctx = impatient
		}
		wg.Go(func() {
			id, err := c.ProjectID(ctx, "root/test")
			if i == 0 {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("the caller that gave up got %d, %v; want context.Canceled", id, err)
				}
				return
			}
			if err != nil || id != 7 {
				t.Errorf("ProjectID = %d, %v", id, err)
			}
		})
	}
	// Wait until every caller shares the one lookup, then let it answer.
	deadline := time.Now().Add(10 * time.Second)
	for c.projectLookupCallers("root/test") < callers {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d callers are waiting for the lookup", c.projectLookupCallers("root/test"), callers)
		}
		runtime.Gosched()
	}
	giveUp()
	close(release)
	wg.Wait()
	if id, err := c.ProjectID(context.Background(), "root/test"); err != nil || id != 7 {
		t.Errorf("ProjectID = %d, %v", id, err)
	}
	if n := reqs.count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// projectLookupCallers is how many callers share the lookup of a path under way.
func (c *Client) projectLookupCallers(project string) int {
	c.projects.mu.Lock()
	defer c.projects.mu.Unlock()
	if l := c.projects.lookups[project]; l != nil {
		return l.callers
	}
	return 0
}

// TestProjectIDKnownFromAgentAnswers: an answer about an agent carries its
// project's ID, so the path it was asked by needs no lookup afterwards.
func TestProjectIDKnownFromAgentAnswers(t *testing.T) {
	t.Parallel()
	agent := `{"id":3,"name":"a","config_project":{"id":7,"path_with_namespace":"root/test"}}`
	for name, ask := range map[string]func(c *Client) error{
		"RegisterAgent": func(c *Client) error {
			_, _, err := c.RegisterAgent(context.Background(), "root/test", "a")
			return err
		},
		"GetAgent": func(c *Client) error {
			_, err := c.GetAgent(context.Background(), "root/test", 3)
			return err
		},
		"ListAgents": func(c *Client) error {
			_, err := c.ListAgents(context.Background(), "root/test")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var reqs requestLog
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqs.record(r)
				switch {
				case r.URL.EscapedPath() == "/api/v4/projects/root%2Ftest/cluster_agents" && r.Method == http.MethodPost:
					writeJSON(w, http.StatusCreated, agent)
				case r.URL.EscapedPath() == "/api/v4/projects/root%2Ftest/cluster_agents":
					writeJSON(w, http.StatusOK, "["+agent+"]")
				case r.URL.EscapedPath() == "/api/v4/projects/root%2Ftest/cluster_agents/3":
					writeJSON(w, http.StatusOK, agent)
				default:
					writeJSON(w, http.StatusNotFound, `{"message":"404 Not Found"}`)
				}
			}))
			c := newTestClient(t, srv.URL, 0)
			if err := ask(c); err != nil {
				t.Fatal(err)
			}
			if id, err := c.ProjectID(context.Background(), "root/test"); err != nil || id != 7 {
				t.Fatalf("ProjectID = %d, %v; want 7", id, err)
			}
			if n := reqs.count(); n != 1 {
				t.Errorf("%d requests, want 1 (no project lookup)", n)
			}
		})
	}
}
