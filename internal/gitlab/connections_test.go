package gitlab

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

func TestAgentConnections_outcomes(t *testing.T) {
	ctx := context.Background()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "my-agent")

	// Not connected: an empty list, no error.
	got, err := client.AgentConnections(ctx, "20", agentID)
	if err != nil || len(got.Connections) != 0 || got.AgentName != "my-agent" || got.ProjectPath != testProject {
		t.Fatalf("not connected: %+v, %v", got, err)
	}

	// Connected, two pods.
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	if _, err := mock.ConnectAgent(agentID, mockgitlab.AgentConnection{ConnectionID: 1234567890123, ConnectedAt: at,
		Version: "v18.0.0", Commit: "abc1234", PodNamespace: "ns", PodName: "pod-1",
		Warnings: []mockgitlab.AgentVersionWarning{{Message: "agentk is old", Type: "version"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mock.ConnectAgent(agentID, mockgitlab.AgentConnection{}); err != nil {
		t.Fatal(err)
	}
	got, err = client.AgentConnections(ctx, testProject, agentID)
	if err != nil || len(got.Connections) != 2 {
		t.Fatalf("connected: %+v, %v", got, err)
	}
	c := got.Connections[0]
	if *c.ConnectionID != 1234567890123 || !c.ConnectedAt.Equal(at) || *c.Version != "v18.0.0" || *c.Commit != "abc1234" ||
		*c.PodNamespace != "ns" || *c.PodName != "pod-1" || len(c.Warnings) != 1 || *c.Warnings[0].Message != "agentk is old" {
		t.Fatalf("connection = %+v", c)
	}

	// KAS unreachable, then disabled: errors, never "not connected".
	mock.SetKASReachable(false)
	_, err = client.AgentConnections(ctx, testProject, agentID)
	if e := asError(t, err); !IsKASUnreachable(err) || !strings.Contains(e.Detail, `"GRPC::Unavailable"`) || !strings.Contains(e.Detail, "not \"not connected\"") {
		t.Fatalf("KAS unreachable: %s: %s", e.Summary, e.Detail)
	}
	mock.SetKASReachable(true)
	if err := mock.SetSettings(mockgitlab.SeedSettings{KASDisabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err = client.AgentConnections(ctx, testProject, agentID)
	if e := asError(t, err); !IsKASUnreachable(err) || !strings.HasSuffix(e.Summary, "KAS is not configured") {
		t.Fatalf("KAS disabled: %s: %s", e.Summary, e.Detail)
	}
	if err := mock.SetSettings(mockgitlab.SeedSettings{}); err != nil {
		t.Fatal(err)
	}

	// A Developer sees an empty list whatever the state: said so.
	dev, err := New(Config{BaseURL: client.BaseURL(), Token: "glpat-mock-developer-0000000"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dev.AgentConnections(ctx, testProject, agentID)
	if e := asError(t, err); e.Summary != "The token's user may not see the connections of agent "+itoa(agentID) ||
		!strings.Contains(e.Detail, "Maintainer") {
		t.Fatalf("developer: %s: %s", e.Summary, e.Detail)
	}

	// GitLab's null project and null agent (as when renamed between the REST and the GraphQL request).
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 200, Body: `{"data":{"project":null}}`})
	_, err = client.AgentConnections(ctx, testProject, agentID)
	if e := asError(t, err); e.Summary != `GitLab's GraphQL API does not show project "root/test"` {
		t.Fatalf("null project: %s", e.Summary)
	}
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 200,
		Body: `{"data":{"project":{"userPermissions":{"adminProject":true},"clusterAgent":null}}}`})
	_, err = client.AgentConnections(ctx, testProject, agentID)
	if e := asError(t, err); e.Summary != `GitLab's GraphQL API does not show agent "my-agent" of project "root/test"` {
		t.Fatalf("null agent: %s", e.Summary)
	}

	// GitLab's 401 for a token GraphQL does not accept.
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 401, Body: `{"errors":[{"message":"Invalid token"}]}`})
	_, err = client.AgentConnections(ctx, testProject, agentID)
	if e := asError(t, err); e.Status != 401 || e.GitLabMessage != "Invalid token" || !strings.Contains(e.Detail, "`read_api` scope") {
		t.Fatalf("invalid token: %+v", e)
	}
	if strings.Contains(err.Error(), testMaintainerToken) {
		t.Fatal("the error quotes the token")
	}
}

func TestAgentConnections_sameTransport(t *testing.T) {
	ctx := context.Background()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "my-agent")

	// A 502 of the query is retried, although it is a POST: a query changes nothing.
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 502})
	if _, err := client.AgentConnections(ctx, testProject, agentID); err != nil {
		t.Fatal(err)
	}
	if n := mock.CountRequests(http.MethodPost, "/api/graphql"); n != 2 {
		t.Fatalf("%d GraphQL requests, want 2 (one retry)", n)
	}
	// A 429 is waited out.
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", Status: 429, Headers: map[string]string{"Retry-After": "1"}})
	start := time.Now()
	if _, err := client.AgentConnections(ctx, testProject, agentID); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatal("the 429 was not waited out")
	}
	// The request timeout bounds it, and a cancelled context stops it.
	slow, err := New(Config{BaseURL: client.BaseURL(), Token: testMaintainerToken, Retries: 1, RequestTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", DelayMS: 2000})
	_, err = slow.AgentConnections(ctx, testProject, agentID)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Path != "/api/graphql" {
		t.Fatalf("timeout: %v", err)
	}
	mock.ClearFaults()
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Pattern: "/api/graphql", DelayMS: 5000})
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := client.AgentConnections(cctx, testProject, agentID); !IsInterrupted(err) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestGraphQLPathBesideAPI(t *testing.T) {
	log := &requestLog{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		writeJSON(w, http.StatusOK, `{"data":{"project":null}}`)
	}))
	client := newTestClient(t, srv.URL+"/gitlab", 0)
	if _, err := graphQL[connectionsData](context.Background(), client, "ask", "query { x }", nil, Target{}); err != nil {
		t.Fatal(err)
	}
	reqs := log.all()
	if len(reqs) != 1 || reqs[0].EscapedPath != "/gitlab/api/graphql" || reqs[0].Header.Get("Authorization") != "Bearer "+testToken {
		t.Fatalf("requests: %+v", reqs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A GitLab from before connection warnings refuses the field: the query is asked again without it.
func TestAgentConnections_gitLabWithoutWarnings(t *testing.T) {
	log := &requestLog{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		body := log.all()[log.count()-1].Body
		switch {
		case r.URL.EscapedPath() == "/api/v4/projects/root%2Ftest/cluster_agents/7":
			writeJSON(w, http.StatusOK, `{"id":7,"name":"old","config_project":{"id":20,"path_with_namespace":"root/test"}}`)
		case strings.Contains(body, "warnings"):
			writeJSON(w, http.StatusOK, `{"errors":[{"message":"Field 'warnings' doesn't exist on type 'ConnectedAgent'","locations":[{"line":9,"column":11}]}]}`)
		default:
			writeJSON(w, http.StatusOK, `{"data":{"project":{"userPermissions":{"adminProject":true},"clusterAgent":{"id":"gid://gitlab/Clusters::Agent/7","name":"old",`+
				`"connections":{"nodes":[{"connectedAt":"2023-09-01T10:00:00+00:00","connectionId":"42","metadata":{"version":"v16.3.0","commit":"c0ffee","podNamespace":"ns","podName":"p"}}]}}}}}`)
		}
	}))
	got, err := newTestClient(t, srv.URL, 0).AgentConnections(context.Background(), testProject, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Connections) != 1 || *got.Connections[0].ConnectionID != 42 || len(got.Connections[0].Warnings) != 0 ||
		*got.Connections[0].Version != "v16.3.0" {
		t.Fatalf("connections = %+v", got.Connections)
	}
	if n := log.count(); n != 3 {
		t.Fatalf("%d requests, want 3 (the agent, the query, the query without warnings)", n)
	}
}

// GraphQL requests are logged like REST ones: the path, never the token.
func TestAgentConnections_logged(t *testing.T) {
	_, client, agentID := mockWithAgent(t, testMaintainerToken, "my-agent")
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	if _, err := client.AgentConnections(ctx, testProject, agentID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), testMaintainerToken) {
		t.Fatal("the log holds the API token")
	}
	found := false
	for _, e := range logEntries(t, &buf) {
		if e["http_path"] == "/api/graphql" && e["http_method"] == http.MethodPost && e["http_status"] == float64(200) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no log entry of the GraphQL request:\n%s", buf.String())
	}
}
