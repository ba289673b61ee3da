package mockgitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// connectionsQuery is the query of GitLab's reference answers.
const connectionsQuery = `query($p: ID!, $n: String!) { project(fullPath: $p) { clusterAgent(name: $n) { id name
  connections { nodes { connectedAt connectionId metadata { version commit podNamespace podName }
                        warnings { version { message type } } } } } } }`

// graphql sends a GraphQL request with the token as Authorization: Bearer.
func (e *testEnv) graphql(token, query string, vars map[string]any) result {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.t.Fatal(err)
	}
	c := call{method: http.MethodPost, path: "/api/graphql", body: string(body)}
	if token != "" {
		c.header = map[string]string{"Authorization": "Bearer " + token}
	}
	return e.send(c)
}

func TestGraphQLAgentConnections(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "my-agent")
	vars := map[string]any{"p": "root/test", "n": "my-agent"}
	gid := fmt.Sprintf("gid://gitlab/Clusters::Agent/%d", a.ID)

	// Not connected.
	expect(t, e.graphql(tokMaintainer, connectionsQuery, vars), 200,
		`{"data":{"project":{"clusterAgent":{"id":"`+gid+`","name":"my-agent","connections":{"nodes":[]}}}}}`)

	// Connected: GitLab's shapes (Time with an offset, BigInt as a string, warnings a list).
	_, err := e.srv.ConnectAgent(a.ID, AgentConnection{ConnectionID: 1234567890123, ConnectedAt: time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC),
		Version: "v18.0.0", Commit: "abc1234", PodNamespace: "gitlab-agent-my-agent", PodName: "my-agent-6d5f-xk2"})
	if err != nil {
		t.Fatal(err)
	}
	connected := `{"data":{"project":{"clusterAgent":{"id":"` + gid + `","name":"my-agent","connections":{"nodes":[{"connectedAt":"2025-05-01T10:00:00+00:00","connectionId":"1234567890123",` +
		`"metadata":{"version":"v18.0.0","commit":"abc1234","podNamespace":"gitlab-agent-my-agent","podName":"my-agent-6d5f-xk2"},"warnings":[]}]}}}}}`
	expect(t, e.graphql(tokMaintainer, connectionsQuery, vars), 200, connected)
	// PRIVATE-TOKEN works too, and the admin sees everything.
	expect(t, e.send(call{method: http.MethodPost, path: "/api/graphql", token: tokRoot,
		body: `{"query":` + jsonText(connectionsQuery) + `,"variables":{"p":"root/test","n":"my-agent"}}`}), 200, connected)

	// Developer: the agent, and no connections (admin_cluster is Maintainer's).
	expect(t, e.graphql(tokDeveloper, connectionsQuery, vars), 200,
		`{"data":{"project":{"clusterAgent":{"id":"`+gid+`","name":"my-agent","connections":{"nodes":[]}}}}}`)
	expect(t, e.graphql(tokDeveloper, `query { project(fullPath: "root/test") { userPermissions { readProject adminProject } } }`, nil), 200,
		`{"data":{"project":{"userPermissions":{"readProject":true,"adminProject":false}}}}`)
	expect(t, e.graphql(tokMaintainer, `query { project(fullPath: "root/test") { userPermissions { adminProject } } }`, nil), 200,
		`{"data":{"project":{"userPermissions":{"adminProject":true}}}}`)
	// Reporter: no agent.
	expect(t, e.graphql(tokReporter, connectionsQuery, vars), 200, `{"data":{"project":{"clusterAgent":null}}}`)
	// Unknown agent.
	expect(t, e.graphql(tokMaintainer, connectionsQuery, map[string]any{"p": "root/test", "n": "nope"}), 200,
		`{"data":{"project":{"clusterAgent":null}}}`)
	// Not a member of a private project, anonymous, unknown project: no project.
	expect(t, e.graphql(tokOutsider, connectionsQuery, vars), 200, `{"data":{"project":null}}`)
	expect(t, e.graphql("", connectionsQuery, vars), 200, `{"data":{"project":null}}`)
	expect(t, e.graphql(tokMaintainer, connectionsQuery, map[string]any{"p": "root/none", "n": "my-agent"}), 200, `{"data":{"project":null}}`)
	// Anonymous on a public project: the project, not its agent.
	if err := e.srv.SetProjectVisibility(20, "public"); err != nil {
		t.Fatal(err)
	}
	expect(t, e.graphql("", connectionsQuery, vars), 200, `{"data":{"project":{"clusterAgent":null}}}`)

	// Several pods, paged.
	if _, err := e.srv.ConnectAgent(a.ID, AgentConnection{Warnings: []AgentVersionWarning{{Message: "agentk is older", Type: "version"}}}); err != nil {
		t.Fatal(err)
	}
	r := e.graphql(tokMaintainer, `query { project(fullPath: "root/test") { clusterAgent(name: "my-agent") {
		connections(first: 1) { nodes { connectionId } pageInfo { hasNextPage endCursor } } } } }`, nil)
	expect(t, r, 200, `{"data":{"project":{"clusterAgent":{"connections":{"nodes":[{"connectionId":"1234567890123"}],"pageInfo":{"hasNextPage":true,"endCursor":"1"}}}}}}`)
	r = e.graphql(tokMaintainer, connectionsQuery, vars)
	if !strings.Contains(r.body, `"warnings":[{"version":{"message":"agentk is older","type":"version"}}]`) {
		t.Fatalf("warnings: %s", r.body)
	}
}

func TestGraphQLKAS(t *testing.T) {
	e := newEnv(t)
	a := e.mustAgent(20, "my-agent")
	gid := fmt.Sprintf("gid://gitlab/Clusters::Agent/%d", a.ID)
	vars := map[string]any{"p": "root/test", "n": "my-agent"}

	// KAS unreachable: connections null, and the exception's class name as the error, with its path.
	// (GitLab adds the field's "locations" too; graphql-go does not for resolver errors.)
	e.srv.SetKASReachable(false)
	expect(t, e.graphql(tokMaintainer, connectionsQuery, vars), 200,
		`{"errors":[{"message":"GRPC::Unavailable","path":["project","clusterAgent","connections"]}],`+
			`"data":{"project":{"clusterAgent":{"id":"`+gid+`","name":"my-agent","connections":null}}}}`)
	// A Developer is not asked about KAS at all.
	expect(t, e.graphql(tokDeveloper, connectionsQuery, vars), 200,
		`{"data":{"project":{"clusterAgent":{"id":"`+gid+`","name":"my-agent","connections":{"nodes":[]}}}}}`)
	e.srv.SetKASReachable(true)

	// KAS disabled.
	if err := e.srv.SetSettings(SeedSettings{KASDisabled: true}); err != nil {
		t.Fatal(err)
	}
	r := e.graphql(tokMaintainer, connectionsQuery, vars)
	if !strings.Contains(r.body, `"message":"Gitlab::Kas::Client::ConfigurationError"`) || !strings.Contains(r.body, `"connections":null`) {
		t.Fatalf("KAS disabled: %s", r.body)
	}
}

func TestGraphQLAuthAndErrors(t *testing.T) {
	e := newEnv(t)
	withScopedUser(t, e)
	e.mustAgent(20, "my-agent")
	vars := map[string]any{"p": "root/test", "n": "my-agent"}
	for _, tok := range []string{"glpat-unknown", DefaultExpiredToken, DefaultRevokedToken, tokK8sProxy, tokReadUser} {
		expect(t, e.graphql(tok, connectionsQuery, vars), 401, `{"errors":[{"message":"Invalid token"}]}`)
	}
	// read_api is enough for queries.
	r := e.graphql(DefaultReadAPIToken, connectionsQuery, vars)
	if r.status != 200 || !strings.Contains(r.body, `"name":"my-agent"`) {
		t.Fatalf("read_api: %d %s", r.status, r.body)
	}
	// Validation errors of the query: no data.
	r = e.graphql(tokMaintainer, `query { project(fullPath: "root/test") { clusterAgent { id } } }`, nil)
	if r.status != 200 || !strings.Contains(r.body, `"errors"`) || strings.Contains(r.body, `"data"`) {
		t.Fatalf("missing argument: %d %s", r.status, r.body)
	}
	r = e.graphql(tokMaintainer, `query { project(fullPath: "root/test") { nope } }`, nil)
	if !strings.Contains(r.body, `Cannot query field \"nope\" on type \"Project\"`) {
		t.Fatalf("unknown field: %s", r.body)
	}
	// Too long a query.
	expect(t, e.graphql(tokMaintainer, "query { "+strings.Repeat(" ", maxGraphQLQueryLength)+"}", nil), 422,
		`{"errors":[{"message":"Query too large"}]}`)
	// Only POST; GraphQL is outside /api/v4.
	expectStatus(t, e.send(call{method: http.MethodGet, path: "/api/graphql", token: tokMaintainer}), 404)
	expectStatus(t, e.send(call{method: http.MethodPost, path: "/api/v4/graphql", token: tokMaintainer, body: `{}`}), 404)

	// GraphQL requests are logged, rate-limited and take faults like the REST API.
	e.srv.ResetRequests()
	e.srv.InjectFault(Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 502, Count: 1})
	expectStatus(t, e.graphql(tokMaintainer, connectionsQuery, vars), 502)
	expectStatus(t, e.graphql(tokMaintainer, connectionsQuery, vars), 200)
	if n := e.srv.CountRequests(http.MethodPost, "/api/graphql"); n != 2 {
		t.Fatalf("logged %d GraphQL requests, want 2", n)
	}
	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/settings", body: `{"rate_limit":{"requests":1,"per_seconds":60}}`}), 200)
	expectStatus(t, e.graphql(tokMaintainer, connectionsQuery, vars), 200)
	if r := e.graphql(tokMaintainer, connectionsQuery, vars); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("rate limit: %d %v", r.status, r.header)
	}
}
