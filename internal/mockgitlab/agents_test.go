package mockgitlab

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const msgFormat = `Name can contain only lowercase letters, digits, and '-', but cannot start or end with '-'`

func TestAgentCreateGetList(t *testing.T) {
	e := newEnv(t)
	created := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	e.srv.SetNow(fixedClock(created))
	projCreated := decode[map[string]any](t, e.get("/projects/20", tokMaintainer))["created_at"].(string)

	want := `{"id":1,"name":"agent-1","config_project":{"id":20,"description":"","name":"test","name_with_namespace":"Administrator / test",` +
		`"path":"test","path_with_namespace":"root/test","created_at":"` + projCreated + `"},` +
		`"created_at":"2024-05-01T10:00:00.123Z","created_by_user_id":2,"is_receptive":false}`
	r := e.post("/projects/root%2Ftest/cluster_agents", tokMaintainer, `{"name":"agent-1"}`)
	expect(t, r, 201, want)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	for h := range r.header {
		if strings.HasPrefix(strings.ToLower(h), "ratelimit") {
			t.Fatalf("normal response carries %s", h)
		}
	}

	expect(t, e.get("/projects/20/cluster_agents/1", tokDeveloper), 200, want)
	expect(t, e.get("/projects/root%2Ftest/cluster_agents", tokDeveloper), 200, "["+want+"]")

	info, ok := e.srv.Agent(1)
	if !ok || info.Name != "agent-1" || info.ProjectID != 20 || info.CreatedByUserID != 2 || !info.CreatedAt.Equal(created.Truncate(time.Millisecond)) {
		t.Fatalf("Agent(1) = %+v, %v", info, ok)
	}

	// Agents are ordered by name and ids are global serials.
	e.mustAgent(21, "zeta")
	e.mustAgent(20, "beta")
	e.mustAgent(20, "alpha")
	got := decode[[]map[string]any](t, e.get("/projects/20/cluster_agents", tokDeveloper))
	var names []string
	for _, a := range got {
		names = append(names, fmt.Sprintf("%v:%v", a["id"], a["name"]))
	}
	if strings.Join(names, ",") != "1:agent-1,4:alpha,3:beta" {
		t.Fatalf("order = %v", names)
	}
	// An agent of another project is not found under this one.
	expect(t, e.get("/projects/20/cluster_agents/2", tokDeveloper), 404, `{"message":"404 Not found"}`)
	expect(t, e.get("/projects/20/cluster_agents/99", tokDeveloper), 404, `{"message":"404 Not found"}`)
	expect(t, e.get("/projects/20/cluster_agents/abc", tokDeveloper), 400, `{"error":"agent_id is invalid"}`)
}

func TestAgentNameValidation(t *testing.T) {
	e := newEnv(t)
	e.mustAgent(20, "taken")
	long63 := strings.Repeat("a", 63)
	long64 := strings.Repeat("a", 64)
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"missing", `{}`, 400, `{"error":"name is missing"}`},
		{"empty", `{"name":""}`, 400, `{"message":"400 Bad request - [\"Name can't be blank\", \"` + msgFormat + `\"]"}`},
		{"null", `{"name":null}`, 400, `{"message":"400 Bad request - [\"Name can't be blank\", \"` + msgFormat + `\"]"}`},
		{"too long", `{"name":"` + long64 + `"}`, 400, `{"message":"400 Bad request - [\"Name is too long (maximum is 63 characters)\"]"}`},
		{"too long and uppercase", `{"name":"A` + long63 + `"}`, 400,
			`{"message":"400 Bad request - [\"Name is too long (maximum is 63 characters)\", \"` + msgFormat + `\"]"}`},
		{"taken", `{"name":"taken"}`, 400, `{"message":"400 Bad request - [\"Name has already been taken\"]"}`},
		{"uppercase", `{"name":"Agent"}`, 400, `{"message":"400 Bad request - [\"` + msgFormat + `\"]"}`},
		{"leading dash", `{"name":"-agent"}`, 400, `{"message":"400 Bad request - [\"` + msgFormat + `\"]"}`},
		{"trailing dash", `{"name":"agent-"}`, 400, `{"message":"400 Bad request - [\"` + msgFormat + `\"]"}`},
		{"underscore", `{"name":"my_agent"}`, 400, `{"message":"400 Bad request - [\"` + msgFormat + `\"]"}`},
		{"trailing newline", `{"name":"agent\n"}`, 400, `{"message":"400 Bad request - [\"` + msgFormat + `\"]"}`},
		{"63 characters", `{"name":"` + long63 + `"}`, 201, ""},
		{"single character", `{"name":"a"}`, 201, ""},
		{"digits and dashes", `{"name":"0-a-9"}`, 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post("/projects/20/cluster_agents", tokMaintainer, tc.body)
			if tc.want == "" {
				expectStatus(t, r, tc.status)
				return
			}
			expect(t, r, tc.status, tc.want)
		})
	}
	// The same name is fine in another project.
	expectStatus(t, e.post("/projects/21/cluster_agents", tokMaintainer, `{"name":"taken"}`), 201)
	// Parameter validation runs before the project lookup.
	expect(t, e.post("/projects/999/cluster_agents", tokMaintainer, `{}`), 400, `{"error":"name is missing"}`)
	// Failed creates leave nothing behind.
	if n := len(e.srv.Agents(20)); n != 4 {
		t.Fatalf("%d agents in project 20, want 4", n)
	}
	// Out-of-band creation validates the same way.
	var ve *ValidationError
	if _, err := e.srv.CreateAgent(20, "Bad", 2); !errors.As(err, &ve) || ve.Messages[0] != msgFormat {
		t.Fatalf("CreateAgent(Bad) = %v", err)
	}
	if _, err := e.srv.CreateAgent(99, "ok", 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateAgent(unknown project) = %v", err)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	tok, err := e.srv.CreateToken(a.ID, "t", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID)
	const (
		forbidden  = `{"message":"403 Forbidden"}`
		projectNF  = `{"message":"404 Project Not Found"}`
		recordNF   = `{"message":"404 Not found"}`
		agentsNF   = `{"message":"404 ClusterAgents Not Found"}`
		configBody = `{"url":"grpcs://agent.example.com"}`
	)
	cases := []struct {
		name, token, method, path, body string
		status                          int
		want                            string
	}{
		{"developer lists agents", tokDeveloper, "GET", "/projects/20/cluster_agents", "", 200, ""},
		{"reporter lists agents", tokReporter, "GET", "/projects/20/cluster_agents", "", 404, agentsNF},
		{"outsider lists agents", tokOutsider, "GET", "/projects/20/cluster_agents", "", 404, projectNF},
		{"developer gets agent", tokDeveloper, "GET", base, "", 200, ""},
		{"reporter gets agent", tokReporter, "GET", base, "", 404, recordNF},
		{"developer creates agent", tokDeveloper, "POST", "/projects/20/cluster_agents", `{"name":"x"}`, 403, forbidden},
		{"reporter creates agent", tokReporter, "POST", "/projects/20/cluster_agents", `{"name":"x"}`, 403, forbidden},
		{"outsider creates agent", tokOutsider, "POST", "/projects/20/cluster_agents", `{"name":"x"}`, 404, projectNF},
		{"developer deletes agent", tokDeveloper, "DELETE", base, "", 403, forbidden},
		{"developer deletes missing agent", tokDeveloper, "DELETE", "/projects/20/cluster_agents/999", "", 403, forbidden},
		{"developer lists tokens", tokDeveloper, "GET", base + "/tokens", "", 200, ""},
		{"reporter lists tokens", tokReporter, "GET", base + "/tokens", "", 404, recordNF},
		{"reporter gets token", tokReporter, "GET", fmt.Sprintf("%s/tokens/%d", base, tok.ID), "", 404, recordNF},
		{"developer gets token", tokDeveloper, "GET", fmt.Sprintf("%s/tokens/%d", base, tok.ID), "", 200, ""},
		{"developer creates token", tokDeveloper, "POST", base + "/tokens", `{"name":"t2"}`, 403, forbidden},
		{"developer creates token on missing agent", tokDeveloper, "POST", "/projects/20/cluster_agents/999/tokens", `{"name":"t2"}`, 403, forbidden},
		{"developer revokes token", tokDeveloper, "DELETE", fmt.Sprintf("%s/tokens/%d", base, tok.ID), "", 403, forbidden},
		{"outsider lists tokens", tokOutsider, "GET", base + "/tokens", "", 404, projectNF},
		{"developer lists URL configs", tokDeveloper, "GET", base + "/url_configurations", "", 403, forbidden},
		{"developer gets URL config", tokDeveloper, "GET", base + "/url_configurations/1", "", 403, forbidden},
		{"developer creates URL config", tokDeveloper, "POST", base + "/url_configurations", configBody, 403, forbidden},
		{"reporter lists URL configs", tokReporter, "GET", base + "/url_configurations", "", 403, forbidden},
		{"outsider lists URL configs", tokOutsider, "GET", base + "/url_configurations", "", 404, projectNF},
		{"maintainer lists URL configs", tokMaintainer, "GET", base + "/url_configurations", "", 200, "[]"},
		{"admin non-member creates agent", tokRoot, "POST", "/projects/21/cluster_agents", `{"name":"by-admin"}`, 201, ""},
		{"owner creates agent", tokMaintainer, "POST", "/projects/21/cluster_agents", `{"name":"by-owner"}`, 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(call{method: tc.method, path: tc.path, token: tc.token, body: tc.body})
			if tc.want == "" {
				expectStatus(t, r, tc.status)
				return
			}
			expect(t, r, tc.status, tc.want)
		})
	}
	if tk, _ := e.srv.Token(tok.ID); tk.Status != "active" {
		t.Fatalf("token revoked by a developer: %+v", tk)
	}
}

func TestAgentDeleteCascades(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	keep := e.mustAgent(20, "agent-2")
	t1, _ := e.srv.CreateToken(a.ID, "one", "", 2)
	t2, _ := e.srv.CreateToken(a.ID, "two", "", 2)
	tKeep, _ := e.srv.CreateToken(keep.ID, "keep", "", 2)
	if err := e.srv.RevokeToken(t2.ID); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID)
	expectStatus(t, e.post(base+"/url_configurations", tokMaintainer, `{"url":"grpc://agent.example.com"}`), 201)

	expect(t, e.del(base, tokMaintainer), 204, "")

	expect(t, e.get(base, tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.get(base+"/tokens", tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.get(fmt.Sprintf("%s/tokens/%d", base, t1.ID), tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.get(base+"/url_configurations", tokMaintainer), 404, `{"message":"404 Not found"}`)
	expect(t, e.del(base, tokMaintainer), 404, `{"message":"404 Not found"}`)
	for _, id := range []int64{t1.ID, t2.ID} {
		if _, ok := e.srv.Token(id); ok {
			t.Fatalf("token %d survived the agent", id)
		}
	}
	if _, ok := e.srv.URLConfiguration(a.ID); ok {
		t.Fatal("URL configuration survived the agent")
	}
	if _, ok := e.srv.Agent(a.ID); ok {
		t.Fatal("agent still there")
	}
	if _, ok := e.srv.Token(tKeep.ID); !ok {
		t.Fatal("other agent's token deleted")
	}
	// A new agent gets a new id; ids are never reused.
	if b := e.mustAgent(20, "agent-1"); b.ID != 3 {
		t.Fatalf("new agent id = %d, want 3", b.ID)
	}
	// Out-of-band delete.
	if err := e.srv.DeleteAgent(keep.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.DeleteAgent(keep.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteAgent = %v", err)
	}
	if _, ok := e.srv.Token(tKeep.ID); ok {
		t.Fatal("DeleteAgent did not cascade")
	}
}

func TestAgentDeleteIfUnmodifiedSince(t *testing.T) {
	e := newEnv(t)
	created := time.Date(2024, 5, 1, 10, 0, 0, 500e6, time.UTC)
	e.srv.SetNow(fixedClock(created))
	a := e.mustAgent(20, "agent-1")
	path := fmt.Sprintf("/projects/20/cluster_agents/%d", a.ID)
	for _, h := range []string{
		created.Add(-time.Hour).Format(http.TimeFormat),
		created.Format(http.TimeFormat), // second precision: earlier than .500
	} {
		r := e.send(call{method: "DELETE", path: path, token: tokMaintainer, header: map[string]string{"If-Unmodified-Since": h}})
		expect(t, r, 412, `{"message":"412 Precondition Failed"}`)
	}
	if _, ok := e.srv.Agent(a.ID); !ok {
		t.Fatal("agent deleted despite 412")
	}
	r := e.send(call{method: "DELETE", path: path, token: tokMaintainer,
		header: map[string]string{"If-Unmodified-Since": created.Add(time.Hour).Format(http.TimeFormat)}})
	expect(t, r, 204, "")
}
