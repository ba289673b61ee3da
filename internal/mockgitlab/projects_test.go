package mockgitlab

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
)

func TestProjectResolution(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, path, token string
		wantStatus        int
		wantPath          string
	}{
		{"numeric id", "/projects/20", tokReporter, 200, "root/test"},
		{"encoded path", "/projects/root%2Ftest", tokReporter, 200, "root/test"},
		{"encoded nested path", "/projects/infra%2Fplatform%2Fclusters", tokDeveloper, 200, "infra/platform/clusters"},
		{"case-insensitive path", "/projects/ROOT%2FTest", tokReporter, 200, "root/test"},
		{"encoded dot escapes decode", "/projects/root%2Ftes%74", tokReporter, 200, "root/test"},
		{"admin non-member", "/projects/21", tokRoot, 200, "infra/platform/clusters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tc.token)
			expectStatus(t, r, tc.wantStatus)
			p := decode[map[string]any](t, r)
			if p["path_with_namespace"] != tc.wantPath {
				t.Fatalf("path_with_namespace = %v, want %s", p["path_with_namespace"], tc.wantPath)
			}
		})
	}

	notFound := []struct{ name, path, token string }{
		{"single segment", "/projects/test", tokRoot},
		{"unknown id", "/projects/999", tokRoot},
		{"negative id", "/projects/-20", tokRoot},
		{"unknown path", "/projects/root%2Fnope", tokRoot},
		{"outsider by id", "/projects/20", tokOutsider},
		{"outsider by path", "/projects/root%2Ftest", tokOutsider},
		{"outsider agents", "/projects/20/cluster_agents", tokOutsider},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.get(tc.path, tc.token), 404, `{"message":"404 Project Not Found"}`)
		})
	}

	t.Run("unencoded slash is an unknown route", func(t *testing.T) {
		expect(t, e.get("/projects/root/test", tokRoot), 404, `{"error":"404 Not Found"}`)
	})
}

func TestProjectJSON(t *testing.T) {
	e := newEnv(t)
	r := e.get("/projects/infra%2Fplatform%2Fclusters", tokMaintainer)
	expectStatus(t, r, 200)
	p := decode[map[string]any](t, r)
	want := map[string]any{
		"id":                  float64(21),
		"name":                "clusters",
		"path":                "clusters",
		"path_with_namespace": "infra/platform/clusters",
		"name_with_namespace": "Infra / Platform / clusters",
		"description":         "",
		"default_branch":      "main",
		"web_url":             e.ts.URL + "/infra/platform/clusters",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %#v, want %#v", k, p[k], v)
		}
	}
	if _, ok := p["created_at"].(string); !ok {
		t.Errorf("created_at missing: %s", r.body)
	}
}

func TestRenamedProjectRedirects(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	if err := e.srv.RenameProject(20, "root/renamed"); err != nil {
		t.Fatal(err)
	}

	r := e.get("/projects/root%2Ftest/cluster_agents?per_page=5&page=1", tokMaintainer)
	// An absolute Location, the body naming it without a final period.
	expect(t, r, 301, "This resource has been moved permanently to "+e.ts.URL+"/api/v4/projects/20/cluster_agents?per_page=5&page=1")
	if loc := r.header.Get("Location"); loc != e.ts.URL+"/api/v4/projects/20/cluster_agents?per_page=5&page=1" {
		t.Fatalf("Location = %q", loc)
	}
	r = e.get("/projects/Root%2FTest", tokMaintainer) // redirect routes match case-insensitively
	expectStatus(t, r, 301)
	if loc := r.header.Get("Location"); loc != e.ts.URL+"/api/v4/projects/20" {
		t.Fatalf("Location = %q", loc)
	}

	expect(t, e.post("/projects/root%2Ftest/cluster_agents", tokMaintainer, `{"name":"x"}`), 405,
		`{"message":"Non GET methods are not allowed for moved projects"}`)
	expect(t, e.del("/projects/root%2Ftest/cluster_agents/1", tokMaintainer), 405,
		`{"message":"Non GET methods are not allowed for moved projects"}`)
	// Users who cannot read the project still get 404.
	expect(t, e.get("/projects/root%2Ftest", tokOutsider), 404, `{"message":"404 Project Not Found"}`)

	r = e.get("/projects/root%2Frenamed/cluster_agents", tokMaintainer)
	expectStatus(t, r, 200)
	if got := decode[[]map[string]any](t, r); len(got) != 1 || got[0]["id"] != float64(a.ID) {
		t.Fatalf("agents after rename = %s", r.body)
	}
	if got := decode[[]map[string]any](t, r); got[0]["config_project"].(map[string]any)["path_with_namespace"] != "root/renamed" {
		t.Fatalf("config_project not renamed: %s", r.body)
	}

	// Following the redirect works with a client that follows it.
	resp, err := http.Get(e.ts.URL + "/api/v4/projects/root%2Ftest?private_token=" + tokMaintainer)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("followed redirect: %d", resp.StatusCode)
	}

	if err := e.srv.RenameProject(20, "infra/platform/clusters"); err == nil {
		t.Fatal("renaming onto a taken path succeeded")
	}
	if err := e.srv.RenameProject(99, "a/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown project: %v", err)
	}
	// Claiming the old path again removes the redirect.
	if err := e.srv.RenameProject(20, "root/test"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.get("/projects/root%2Ftest", tokMaintainer), 200)
	expectStatus(t, e.get("/projects/root%2Frenamed", tokMaintainer), 301)
}

// A public or internal project may be read by any user, but its agents and
// tokens only by a Developer: a non-member gets GitLab's 404s for objects
// that exist, and 403 for writes (GitLab's app/policies/project_policy.rb and
// app/policies/clusters/agent_policy.rb).
func TestPublicProjectNonMember(t *testing.T) {
	for _, visibility := range []string{"public", "internal"} {
		t.Run(visibility, func(t *testing.T) {
			seed := DefaultSeed()
			seed.Projects[0].Visibility = visibility
			e := newEnvWithSeed(t, seed)
			a, err := e.srv.CreateAgent(20, "agent-1", 2)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := e.srv.CreateToken(a.ID, "t", "", 2)
			if err != nil {
				t.Fatal(err)
			}
			r := e.get("/projects/20", tokOutsider)
			expectStatus(t, r, http.StatusOK)
			if p := decode[map[string]any](t, r); p["visibility"] != visibility {
				t.Errorf("visibility = %v, want %s", p["visibility"], visibility)
			}
			expect(t, e.get("/projects/20/cluster_agents", tokOutsider), http.StatusNotFound, `{"message":"404 ClusterAgents Not Found"}`)
			expect(t, e.get("/projects/20/cluster_agents/"+strconv.FormatInt(a.ID, 10), tokOutsider), http.StatusNotFound, `{"message":"404 Not found"}`)
			expect(t, e.get("/projects/20/cluster_agents/"+strconv.FormatInt(a.ID, 10)+"/tokens/"+strconv.FormatInt(tok.ID, 10), tokOutsider), http.StatusNotFound, `{"message":"404 Not found"}`)
			expectStatus(t, e.del("/projects/20/cluster_agents/"+strconv.FormatInt(a.ID, 10), tokOutsider), http.StatusForbidden)
		})
	}
	seed := DefaultSeed()
	seed.Projects[0].Visibility = "secret"
	if _, err := New(seed); err == nil {
		t.Error("a seed with visibility \"secret\" was accepted")
	}
}
