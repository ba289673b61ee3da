package mockgitlab

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Tokens of scopedUsers.
const (
	tokReadUser       = "glpat-mock-scoped-read-user"
	tokReadRepository = "glpat-mock-scoped-read-repo"
	tokK8sProxy       = "glpat-mock-scoped-k8s-proxy"
	tokAIFeatures     = "glpat-mock-scoped-ai-features"
)

// withScopedUser adds a user whose tokens have the scopes /metadata does and does not accept.
func withScopedUser(t *testing.T, e *testEnv) {
	t.Helper()
	err := e.srv.AddUser(SeedUser{ID: 50, Username: "scoped", AccessTokens: []SeedAccessToken{
		{Token: tokReadUser, Scopes: []string{"read_user"}},
		{Token: tokReadRepository, Scopes: []string{"read_repository"}},
		{Token: tokK8sProxy, Scopes: []string{"k8s_proxy"}},
		{Token: tokAIFeatures, Scopes: []string{"ai_features"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMetadataKAS(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.ts.URL, "http://")

	// KAS is on by default, at the Linux package's default address on the mock's host; the proxy URL is
	// derived from it as GitLab does (http for ws).
	want := fmt.Sprintf(`{"version":"19.0.0-ee","revision":"6f1c2a9b3d4","kas":{"enabled":true,`+
		`"externalUrl":"ws://%s/-/kubernetes-agent/","externalK8sProxyUrl":"http://%s/-/kubernetes-agent/k8s-proxy",`+
		`"version":"19.0.0"},"enterprise":true}`, host, host)
	expect(t, e.get("/metadata", tokReporter), 200, want)
	// GET /version is the same endpoint.
	expect(t, e.get("/version", tokReporter), 200, want)
	if got := e.srv.KAS(e.ts.URL); *got.ExternalK8sProxyURL != "http://"+host+KASProxyPath {
		t.Fatalf("KAS().ExternalK8sProxyURL = %q", *got.ExternalK8sProxyURL)
	}

	// Configured addresses, and the proxy URL derived from them.
	for _, tc := range []struct{ external, proxy, want string }{
		{"wss://kas.gitlab.com", "", "https://kas.gitlab.com/k8s-proxy"},
		{"grpc://gitlab.example.com:8150", "", "http://gitlab.example.com:8150/k8s-proxy"},
		{"grpcs://gitlab.example.com:8150", "", "https://gitlab.example.com:8150/k8s-proxy"},
		{"wss://gitlab.example.com/-/kubernetes-agent/", "", "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy"},
		{"wss://gitlab.example.com/-/kubernetes-agent/", "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/"},
	} {
		r := e.send(call{method: http.MethodPut, path: "/-/mock/settings",
			body: fmt.Sprintf(`{"kas_external_url":%q,"kas_external_k8s_proxy_url":%q,"kas_version":"18.9.1"}`, tc.external, tc.proxy)})
		expectStatus(t, r, 200)
		kas := decode[struct{ KAS map[string]any }](t, e.get("/metadata", tokDeveloper)).KAS
		if kas["externalUrl"] != tc.external || kas["externalK8sProxyUrl"] != tc.want || kas["version"] != "18.9.1" {
			t.Errorf("external %q, proxy %q: kas = %v, want proxy %q", tc.external, tc.proxy, kas, tc.want)
		}
	}

	// KAS unreachable: GitLab cannot fetch its version.
	e.srv.SetKASReachable(false)
	r := e.get("/metadata", tokDeveloper)
	if !strings.Contains(r.body, `"version":null}`) || !strings.Contains(r.body, `"enabled":true`) {
		t.Fatalf("metadata with KAS unreachable: %s", r.body)
	}
	e.srv.SetKASReachable(true)

	// KAS switched off: enabled false, everything else null.
	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"kas_enabled":false}`}), 200)
	expect(t, e.get("/metadata", tokDeveloper), 200, `{"version":"19.0.0-ee","revision":"6f1c2a9b3d4",`+
		`"kas":{"enabled":false,"externalUrl":null,"externalK8sProxyUrl":null,"version":null},"enterprise":true}`)

	// Bad settings are refused.
	r = e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"kas_external_url":"kas.example.com"}`})
	expectStatus(t, r, 400)
	if !strings.Contains(r.body, "kas_external_url") {
		t.Fatalf("error does not name the setting: %s", r.body)
	}
}

func TestMetadataVersionHistory(t *testing.T) {
	e := newEnv(t)
	setVersion := func(v string) {
		t.Helper()
		expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"gitlab_version":"` + v + `"}`}), 200)
	}
	// Before 15.2 there is no /metadata at all; /version (8.13+) tells the version and revision.
	setVersion("15.1.6")
	expect(t, e.get("/metadata", tokDeveloper), 404, `{"error":"404 Not Found"}`)
	expect(t, e.get("/version", tokDeveloper), 200, `{"version":"15.1.6-ee","revision":"6f1c2a9b3d4"}`)
	// 15.2: kas, without externalK8sProxyUrl; no enterprise.
	setVersion("15.2.0")
	r := e.get("/metadata", tokDeveloper)
	expectKeys(t, r.body, "version", "revision", "kas")
	if strings.Contains(r.body, "externalK8sProxyUrl") {
		t.Fatalf("15.2 sends externalK8sProxyUrl: %s", r.body)
	}
	// 15.6: enterprise.
	setVersion("15.6.0")
	r = e.get("/metadata", tokDeveloper)
	expectKeys(t, r.body, "version", "revision", "kas", "enterprise")
	if strings.Contains(r.body, "externalK8sProxyUrl") {
		t.Fatalf("15.6 sends externalK8sProxyUrl: %s", r.body)
	}
	// 17.5 still has no proxy URL, 17.6 has it, null or not.
	setVersion("17.5.3")
	if r = e.get("/metadata", tokDeveloper); strings.Contains(r.body, "externalK8sProxyUrl") {
		t.Fatalf("17.5 sends externalK8sProxyUrl: %s", r.body)
	}
	setVersion("17.6.0")
	if r = e.get("/metadata", tokDeveloper); !strings.Contains(r.body, `"externalK8sProxyUrl":"http://`) {
		t.Fatalf("17.6 lacks externalK8sProxyUrl: %s", r.body)
	}
	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"kas_enabled":false}`}), 200)
	if r = e.get("/version", tokDeveloper); !strings.Contains(r.body, `"externalK8sProxyUrl":null`) {
		t.Fatalf("17.6 with KAS off lacks a null externalK8sProxyUrl: %s", r.body)
	}
}

func TestMetadataAuthAndScopes(t *testing.T) {
	e := newEnv(t)
	withScopedUser(t, e)
	for _, path := range []string{"/metadata", "/version"} {
		expect(t, e.get(path, ""), 401, `{"message":"401 Unauthorized"}`)
		expect(t, e.get(path, "glpat-unknown"), 401, `{"message":"401 Unauthorized"}`)
		expectStatus(t, e.get(path, DefaultExpiredToken), 401)
		// Any user, any role: an outsider too.
		expectStatus(t, e.get(path, tokOutsider), 200)
		for _, tok := range []string{DefaultReadAPIToken, tokReadUser, tokAIFeatures} {
			expectStatus(t, e.get(path, tok), 200)
		}
		for _, tok := range []string{tokReadRepository, tokK8sProxy} {
			r := e.get(path, tok)
			expectStatus(t, r, 403)
			if !strings.Contains(r.body, "insufficient_scope") {
				t.Fatalf("%s with a token without an accepted scope: %s", path, r.body)
			}
		}
	}
	// read_user opens /metadata and /user, not the projects.
	expectStatus(t, e.get("/user", tokReadUser), 200)
	expectStatus(t, e.get("/projects/20", tokReadUser), 403)
	expectStatus(t, e.get("/projects/20", tokAIFeatures), 403)
}

func TestAgentConnectionsControl(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "agent-1")
	other := e.mustAgent(20, "agent-2")
	base := fmt.Sprintf("/-/mock/agents/%d/connections", a.ID)

	// Registering an agent and using its token do not connect it.
	tok, err := e.srv.CreateToken(a.ID, "t", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.MarkTokenUsed(tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if e.srv.AgentConnected(a.ID) {
		t.Fatal("agent connected by its token being used")
	}
	expect(t, e.get(base, ""), 200, `[]`)

	// agentk connects: defaults filled in.
	r := e.post(base, "", `{}`)
	expectStatus(t, r, 201)
	c := decode[AgentConnection](t, r)
	if c.ConnectionID <= 0 || c.Version != "v19.0.0" || c.PodNamespace != "gitlab-agent-agent-1" ||
		!strings.HasPrefix(c.PodName, "agent-1-") || c.ConnectedAt.IsZero() || c.ConnectedAt.Nanosecond() != 0 {
		t.Fatalf("connection = %+v", c)
	}
	if !e.srv.AgentConnected(a.ID) || e.srv.AgentConnected(other.ID) {
		t.Fatal("AgentConnected does not follow the connection")
	}
	// A second pod, with its own details.
	r = e.post(base, "", `{"version":"v18.0.0","commit":"abc1234","pod_namespace":"ns","pod_name":"p-2","connection_id":77,
		"connected_at":"2025-05-01T10:00:00.5Z","warnings":[{"message":"agentk is older than KAS","type":"version_skew"}]}`)
	expectStatus(t, r, 201)
	expect(t, e.post(base, "", `{"connection_id":77}`), 400, `{"error":"agent `+fmt.Sprint(a.ID)+` already has connection 77"}`)
	conns := e.srv.AgentConnections(a.ID)
	if len(conns) != 2 || conns[0].ConnectionID != 77 || conns[0].ConnectedAt != time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC) ||
		len(conns[0].Warnings) != 1 {
		t.Fatalf("connections = %+v", conns)
	}
	// One disconnects, then the rest.
	expectStatus(t, e.del(base+"/77", ""), 204)
	expect(t, e.del(base+"/77", ""), 404, fmt.Sprintf(`{"error":"connection 77 of agent %d: not found"}`, a.ID))
	if len(e.srv.AgentConnections(a.ID)) != 1 {
		t.Fatal("one disconnect dropped more than one connection")
	}
	expectStatus(t, e.del(base, ""), 204)
	if e.srv.AgentConnected(a.ID) {
		t.Fatal("still connected after every agentk went away")
	}

	// Deleting the agent drops its connections.
	if _, err := e.srv.ConnectAgent(other.ID, AgentConnection{}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.DeleteAgent(other.ID); err != nil {
		t.Fatal(err)
	}
	if e.srv.AgentConnected(other.ID) {
		t.Fatal("a deleted agent is still connected")
	}

	// Unknown agents and bad ids.
	expect(t, e.post("/-/mock/agents/999/connections", "", `{}`), 404, `{"error":"agent 999: not found"}`)
	expect(t, e.get("/-/mock/agents/999/connections", ""), 404, `{"error":"agent 999: not found"}`)
	expect(t, e.post("/-/mock/agents/x/connections", "", `{}`), 400, `{"error":"agent id must be a positive integer"}`)
	expect(t, e.send(call{method: http.MethodPut, path: base}), 405, `{"error":"method not allowed"}`)

	// KAS reachability.
	expect(t, e.send(call{method: http.MethodPut, path: "/-/mock/kas", body: `{"reachable":false}`}), 200, `{"reachable":false}`)
	if e.srv.KAS(e.ts.URL).Version != nil {
		t.Fatal("KAS version known while KAS is unreachable")
	}
	expect(t, e.send(call{method: http.MethodPut, path: "/-/mock/kas", body: `{}`}), 400, `{"error":"reachable (true or false) is required"}`)
	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/kas", body: `{"reachable":true}`}), 200)
	if e.srv.KAS(e.ts.URL).Version == nil {
		t.Fatal("KAS version unknown once KAS is reachable again")
	}
}
