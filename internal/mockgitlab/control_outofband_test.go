package mockgitlab

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestControlMembers(t *testing.T) {
	const (
		memberSees    = ""
		reporterSees  = `{"message":"404 ClusterAgents Not Found"}`
		nonMemberSees = `{"message":"404 Project Not Found"}` // a private project is invisible
	)
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string // exact for 200, a part of the error otherwise
		// the developer user's error answer to GET /projects/20/cluster_agents afterwards, "" for 200
		wantAgents string
	}{
		{"demote to reporter", "PUT", "/-/mock/projects/20/members/developer", `{"role":"reporter"}`, 200,
			`{"project_id":20,"role":"reporter","username":"developer"}`, reporterSees},
		{"promote to maintainer", "PUT", "/-/mock/projects/20/members/developer", `{"role":"maintainer"}`, 200,
			`{"project_id":20,"role":"maintainer","username":"developer"}`, memberSees},
		{"null removes", "PUT", "/-/mock/projects/20/members/developer", `{"role":null}`, 200,
			`{"project_id":20,"role":null,"username":"developer"}`, nonMemberSees},
		{"empty removes", "PUT", "/-/mock/projects/20/members/developer", `{"role":""}`, 200,
			`{"project_id":20,"role":null,"username":"developer"}`, nonMemberSees},
		{"unknown project", "PUT", "/-/mock/projects/99/members/developer", `{"role":"reporter"}`, 404, "project 99", memberSees},
		{"unknown user", "PUT", "/-/mock/projects/20/members/nobody", `{"role":"reporter"}`, 404, `user \"nobody\"`, memberSees},
		{"unknown role", "PUT", "/-/mock/projects/20/members/developer", `{"role":"admin"}`, 400, `unknown role \"admin\"`, memberSees},
		{"role not a string", "PUT", "/-/mock/projects/20/members/developer", `{"role":30}`, 400, "role must be a string or null", memberSees},
		{"role missing", "PUT", "/-/mock/projects/20/members/developer", `{}`, 400, "role is required", memberSees},
		{"no body", "PUT", "/-/mock/projects/20/members/developer", ``, 400, "a JSON body is required", memberSees},
		{"unknown field", "PUT", "/-/mock/projects/20/members/developer", `{"role":"guest","until":"x"}`, 400, "unknown field", memberSees},
		{"project id not a number", "PUT", "/-/mock/projects/test/members/developer", `{"role":"guest"}`, 400, "project id must be an integer", memberSees},
		{"wrong method", "POST", "/-/mock/projects/20/members/developer", `{"role":"guest"}`, 405, "method not allowed", memberSees},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.send(call{method: tc.method, path: tc.path, body: tc.body})
			checkControlAnswer(t, r, tc.wantStatus, tc.wantBody)
			r = e.get("/projects/20/cluster_agents", tokDeveloper)
			if tc.wantAgents == "" {
				expectStatus(t, r, 200)
			} else {
				expect(t, r, 404, tc.wantAgents)
			}
			if tc.name == "promote to maintainer" {
				expectStatus(t, e.post("/projects/20/cluster_agents", tokDeveloper, `{"name":"agent-1"}`), 201)
			}
		})
	}
}

func TestControlRename(t *testing.T) {
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
		wantPath   string // where project 20 lives afterwards
	}{
		{"rename", "POST", "/-/mock/projects/20/rename", `{"path_with_namespace":"root/renamed"}`, 200,
			`{"id":20,"path_with_namespace":"root/renamed"}`, "root/renamed"},
		{"move to another group", "POST", "/-/mock/projects/20/rename", `{"path_with_namespace":"infra/moved/test"}`, 200,
			`{"id":20,"path_with_namespace":"infra/moved/test"}`, "infra/moved/test"},
		{"unknown project", "POST", "/-/mock/projects/99/rename", `{"path_with_namespace":"root/x"}`, 404, "project 99", "root/test"},
		{"path taken", "POST", "/-/mock/projects/20/rename", `{"path_with_namespace":"infra/platform/clusters"}`, 400, "already taken", "root/test"},
		{"no namespace", "POST", "/-/mock/projects/20/rename", `{"path_with_namespace":"lonely"}`, 400, "must contain a namespace", "root/test"},
		{"path missing", "POST", "/-/mock/projects/20/rename", `{}`, 400, "must contain a namespace", "root/test"},
		{"no body", "POST", "/-/mock/projects/20/rename", ``, 400, "a JSON body is required", "root/test"},
		{"id not a number", "POST", "/-/mock/projects/x/rename", `{"path_with_namespace":"root/x"}`, 400, "project id must be an integer", "root/test"},
		{"wrong method", "PUT", "/-/mock/projects/20/rename", `{"path_with_namespace":"root/x"}`, 405, "method not allowed", "root/test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.send(call{method: tc.method, path: tc.path, body: tc.body})
			checkControlAnswer(t, r, tc.wantStatus, tc.wantBody)
			escaped := strings.ReplaceAll(tc.wantPath, "/", "%2F")
			r = e.get("/projects/"+escaped, tokMaintainer)
			expectStatus(t, r, 200)
			if got := decode[map[string]any](t, r)["id"]; got != float64(20) {
				t.Fatalf("GET %s: id = %v", tc.wantPath, got)
			}
			if tc.wantPath != "root/test" {
				// The old path redirects, as GitLab's redirect routes do.
				r = e.get("/projects/root%2Ftest", tokMaintainer)
				if r.status != http.StatusMovedPermanently || !strings.HasSuffix(r.header.Get("Location"), "/api/v4/projects/20") {
					t.Fatalf("old path: got %d Location %q", r.status, r.header.Get("Location"))
				}
			}
		})
	}
}

func TestControlDeleteURLConfiguration(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	b := e.mustAgent(20, "agent-2")
	base := func(agentID int64) string {
		return fmt.Sprintf("/projects/20/cluster_agents/%d/url_configurations", agentID)
	}
	expectStatus(t, e.post(base(a.ID), tokMaintainer, `{"url":"grpcs://a.example.com"}`), 201)
	expectStatus(t, e.post(base(b.ID), tokMaintainer, `{"url":"grpcs://b.example.com"}`), 201)
	cfgA, _ := e.srv.URLConfiguration(a.ID)
	cfgB, _ := e.srv.URLConfiguration(b.ID)
	receptive := func(agentID int64) any {
		return decode[map[string]any](t, e.get(fmt.Sprintf("/projects/20/cluster_agents/%d", agentID), tokMaintainer))["is_receptive"]
	}

	for _, tc := range []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"delete", "DELETE", fmt.Sprintf("/-/mock/url_configurations/%d", cfgA.ID), 204, ""},
		{"already deleted", "DELETE", fmt.Sprintf("/-/mock/url_configurations/%d", cfgA.ID), 404, "not found"},
		{"unknown", "DELETE", "/-/mock/url_configurations/999", 404, "URL configuration 999"},
		{"id not a number", "DELETE", "/-/mock/url_configurations/x", 400, "URL configuration id must be an integer"},
		{"wrong method", "GET", fmt.Sprintf("/-/mock/url_configurations/%d", cfgB.ID), 405, "method not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkControlAnswer(t, e.send(call{method: tc.method, path: tc.path}), tc.wantStatus, tc.wantBody)
		})
	}
	// Only agent-1's configuration is gone, and its agent follows as after_destroy makes it.
	if got := receptive(a.ID); got != false {
		t.Fatalf("agent-1 is_receptive = %v after its configuration was deleted", got)
	}
	expect(t, e.get(base(a.ID), tokMaintainer), 200, "[]")
	expect(t, e.get(fmt.Sprintf("%s/%d", base(a.ID), cfgA.ID), tokMaintainer), 404, `{"message":"404 Not Found"}`)
	if got := receptive(b.ID); got != true {
		t.Fatalf("agent-2 is_receptive = %v", got)
	}
	expectStatus(t, e.get(fmt.Sprintf("%s/%d", base(b.ID), cfgB.ID), tokMaintainer), 200)
	// The Go method does the same.
	if err := e.srv.deleteURLConfigurationByID(cfgB.ID); err != nil {
		t.Fatal(err)
	}
	if got := receptive(b.ID); got != false {
		t.Fatalf("agent-2 is_receptive = %v", got)
	}
	// A new configuration can be created afterwards.
	expectStatus(t, e.post(base(a.ID), tokMaintainer, `{"url":"grpcs://a2.example.com"}`), 201)
	// Control requests are not logged.
	for _, lr := range e.srv.Requests() {
		if strings.HasPrefix(lr.Path, "/-/") {
			t.Fatalf("logged %s", lr.Path)
		}
	}
}

// checkControlAnswer checks a control answer: the exact body on success, a JSON {"error"} holding
// want otherwise.
func checkControlAnswer(t *testing.T, r result, status int, want string) {
	t.Helper()
	if status < 300 {
		expect(t, r, status, want)
		return
	}
	if r.status != status || !strings.Contains(r.body, want) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %s, want %d with %s", r.status, r.body, status, want)
	}
	if _, ok := decode[map[string]any](t, r)["error"]; !ok {
		t.Fatalf("error body %s has no error", r.body)
	}
}
