package gitlab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const agentsPattern = "/api/v4/projects/*/cluster_agents"

// Every operation refuses each answer that is not GitLab's: nothing is taken
// from it, and the error names the request and shows what came back.
func TestAnswersThatAreNotGitLabs(t *testing.T) {
	t.Parallel()
	type operation struct {
		name    string
		method  string
		pattern string
		do      func(c *Client, agentID, tokenID int64) error
	}
	ops := []operation{
		{"read agent", "GET", agentsPattern + "/*", func(c *Client, agentID, _ int64) error {
			_, err := c.GetAgent(context.Background(), testProject, agentID)
			return err
		}},
		{"list agents", "GET", agentsPattern, func(c *Client, _, _ int64) error {
			_, err := c.ListAgents(context.Background(), testProject)
			return err
		}},
		{"delete agent", "DELETE", agentsPattern + "/*", func(c *Client, agentID, _ int64) error {
			return c.DeleteAgent(context.Background(), testProject, agentID)
		}},
		{"read token", "GET", tokensPattern + "/*", func(c *Client, agentID, tokenID int64) error {
			_, err := c.GetAgentToken(context.Background(), testProject, agentID, tokenID)
			return err
		}},
		{"revoke token", "DELETE", tokensPattern + "/*", func(c *Client, agentID, tokenID int64) error {
			return c.RevokeAgentToken(context.Background(), testProject, agentID, tokenID)
		}},
		{"check auth", "GET", "/api/v4/user", func(c *Client, _, _ int64) error {
			return c.CheckAuth(context.Background())
		}},
	}
	answers := []struct {
		answer string
		shows  string
	}{
		{mockgitlab.AnswerHTML, `Content-Type "text/html; charset=utf-8", body starting with "<!DOCTYPE html>`},
		{mockgitlab.AnswerRedirect, `/users/sign_in`},
		{mockgitlab.AnswerEmptyObject, `body starting with {}`},
		{mockgitlab.AnswerEmptyList, `body starting with []`},
		{mockgitlab.AnswerWrongID, `status 2`},
	}
	for _, op := range ops {
		for _, a := range answers {
			if a.answer == mockgitlab.AnswerWrongID && (op.method == "DELETE" || op.name == "list agents" || op.name == "check auth") {
				// A DELETE's answer holds no ID; which IDs a list or the
				// token's user should have is not known beforehand.
				continue
			}
			if a.answer == mockgitlab.AnswerEmptyList && op.name == "list agents" {
				continue // an empty list is GitLab's answer for a project without agents
			}
			t.Run(op.name+"/"+a.answer, func(t *testing.T) {
				t.Parallel()
				mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
				tok := mustCreateToken(t, mock, agentID, "t")
				mock.InjectFault(mockgitlab.Fault{Method: op.method, Pattern: op.pattern, Answer: a.answer, Count: 10})
				err := op.do(client, agentID, tok.ID)
				if err == nil {
					t.Fatal("an answer that is not GitLab's was taken for a success")
				}
				if IsNotFound(err) || AnswerOf(err) == nil {
					t.Fatalf("IsNotFound %v, AnswerOf %v: %v", IsNotFound(err), AnswerOf(err), err)
				}
				e := explained(t, err)
				for _, want := range []string{"is not one GitLab's API gives", op.method + " http", a.shows} {
					if !strings.Contains(e.Detail, want) {
						t.Errorf("detail lacks %q:\n%s", want, e.Detail)
					}
				}
				if strings.Contains(e.Detail, testMaintainerToken) || strings.Contains(e.Detail, tok.Token) {
					t.Error("the error carries a secret")
				}
				if _, ok := mock.Agent(agentID); !ok {
					t.Error("the agent is gone")
				}
				if info, _ := mock.Token(tok.ID); info.Status != "active" {
					t.Errorf("the token is %s", info.Status)
				}
			})
		}
	}
}

// A create answered with something that is not GitLab's may have created
// the object: the agent is looked for and adopted; the token is listed as a
// candidate, never revoked; the URL configuration is adopted, reported as
// recovered.
func TestCreateAnsweredNotByGitLab(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, answer := range []string{mockgitlab.AnswerEmptyObject, mockgitlab.AnswerEmptyList, mockgitlab.AnswerHTML, mockgitlab.AnswerRedirect} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
			mock.InjectFault(mockgitlab.Fault{Method: "POST", Answer: answer, AfterCommit: true, Count: 3})
			mock.SetReceptiveAgents(true)

			a, recovered, err := client.RegisterAgent(ctx, testProject, "second")
			if err != nil || !recovered || a.Name != "second" || a.ID != agentID+1 {
				t.Errorf("register: %+v recovered %v err %v, want agent %d recovered", a, recovered, err, agentID+1)
			}

			_, err = client.CreateAgentToken(ctx, testProject, agentID, "lost", nil)
			e := explained(t, err)
			if !e.OutcomeUnknown || len(e.Candidates) != 1 || e.Candidates[0].Name != "lost" {
				t.Errorf("token create: outcome unknown %v, candidates %+v", e.OutcomeUnknown, e.Candidates)
			}
			if n := len(mock.ActiveTokens(agentID)); n != 1 {
				t.Errorf("%d active tokens, want the one created, not revoked", n)
			}
			assertNoSecret(t, mock, err)

			u, recovered, err := client.CreateOrRecoverURLConfiguration(ctx, testProject, agentID, &CreateURLConfigurationOptions{URL: "grpc://agent:4242"})
			info, _ := mock.URLConfiguration(agentID)
			if err != nil || !recovered || u.ID != info.ID {
				t.Errorf("URL configuration: %+v recovered %v err %v, want %d recovered", u, recovered, err, info.ID)
			}
		})
	}
}

// Without after_commit GitLab did nothing: the lookups find nothing, and
// nothing is adopted or revoked.
func TestCreateAnsweredNotByGitLabCreatedNothing(t *testing.T) {
	t.Parallel()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Answer: mockgitlab.AnswerEmptyObject, Count: 2})
	_, _, err := client.RegisterAgent(context.Background(), testProject, "second")
	if e := explained(t, err); e.Answer == nil || !strings.Contains(e.Detail, "body starting with {}") || !strings.Contains(e.Detail, `no agent named "second"`) {
		t.Errorf("register: %v", err)
	}
	_, err = client.CreateAgentToken(context.Background(), testProject, agentID, "lost", nil)
	if e := explained(t, err); len(e.Candidates) != 0 || !strings.Contains(e.Detail, `GitLab created no token named "lost"`) {
		t.Errorf("token create: %v", err)
	}
	if n := len(mock.Agents(testProjectID)); n != 1 {
		t.Errorf("%d agents", n)
	}
}

// Redirects are followed for reads only: a POST or DELETE answered with a
// redirect is not sent on (Go would send it on as a GET), and fails.
func TestRedirectsAreNotFollowedForWrites(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/users/sign_in":
			followed.Add(1)
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>Sign in</html>"))
		case r.URL.Path == "/api/v4/projects/20/cluster_agents/7" && r.Method == http.MethodGet && r.URL.Query().Get("moved") == "":
			http.Redirect(w, r, "/api/v4/projects/20/cluster_agents/7?moved=1", http.StatusMovedPermanently)
		case r.URL.Path == "/api/v4/projects/20/cluster_agents" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, `[]`) // the lookup after the lost create
		case r.URL.Query().Get("moved") == "1":
			writeJSON(w, http.StatusOK, `{"id":7,"name":"a","config_project":{"id":20}}`)
		default:
			http.Redirect(w, r, "/users/sign_in", http.StatusFound)
		}
	}))
	c := newTestClient(t, srv.URL, 0)
	ctx := context.Background()
	if a, err := c.GetAgent(ctx, "20", 7); err != nil || a.ID != 7 {
		t.Fatalf("a read follows a redirect to GitLab's answer: %+v, %v", a, err)
	}
	_, _, err := c.RegisterAgent(ctx, "20", "a")
	if answer := AnswerOf(err); answer == nil || answer.Status != http.StatusFound || !strings.Contains(answer.Problem, "not followed") {
		t.Errorf("register: %v", err)
	}
	if err := c.DeleteAgent(ctx, "20", 8); AnswerOf(err) == nil || AnswerOf(err).Location != "/users/sign_in" {
		t.Errorf("delete: %v", err)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("a write was sent on to the redirect's target %d times", n)
	}
	// A read redirected to a sign-in page fails, naming where it ended.
	_, err = c.GetAgent(ctx, "20", 9)
	if n := followed.Load(); n != 1 {
		t.Errorf("the read was sent on to the redirect's target %d times, want 1", n)
	}
	if answer := AnswerOf(err); answer == nil || !strings.HasSuffix(answer.RedirectedTo, "/users/sign_in") || answer.Problem != "not JSON" {
		t.Errorf("read redirected to a sign-in page: %+v", answer)
	}
}

// A create that never reached GitLab (connection refused) says that nothing
// was created, and looks for nothing.
func TestCreateNeverSent(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c := newTestClient(t, "http://"+addr, 1)
	_, _, err = c.RegisterAgent(context.Background(), "20", "a")
	e := explained(t, err)
	if !e.NotSent || e.OutcomeUnknown || !strings.Contains(e.Detail, "never reached GitLab") ||
		!strings.Contains(e.Detail, `Agent "a" was not registered`) || strings.Contains(e.Detail, "unknown") {
		t.Errorf("not sent %v, outcome unknown %v: %s", e.NotSent, e.OutcomeUnknown, e.Detail)
	}
	_, err = c.CreateAgentToken(context.Background(), "20", 7, "t", nil)
	if e := explained(t, err); !e.NotSent || e.OutcomeUnknown || !strings.Contains(e.Detail, `Token "t" was not created`) {
		t.Errorf("token: %v", err)
	}
	// An operation already out of time sends nothing either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	_, err = client.CreateAgentToken(ctx, testProject, agentID, "t", nil)
	if e := explained(t, err); !e.NotSent || e.OutcomeUnknown {
		t.Errorf("cancelled token create: %v", err)
	}
	if n := len(mock.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestShownBodyRedactsSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body      string
		truncated bool
		want      string
	}{
		{`{"id":1,"token":"glagent-abcdefghijklmnopqrstuvwxyz"}`, false, `{"id":1,"token":"[REDACTED]"}`},
		{`{"id":1,"token":"glagent-abcdefghijklmnop`, true, "not shown"},
		{"<html>token glpat-SECRETSECRET99 and " + testToken + "</html>", false, `"<html>token [REDACTED] and [REDACTED]</html>"`},
		{"<html>\x00\n" + strings.Repeat("x", 300), false, `"<html>\x00 ` + strings.Repeat("x", shownStart-8)},
	} {
		got := shownBody([]byte(tc.body), tc.truncated, testToken)
		if !strings.Contains(got, tc.want) || strings.Contains(got, "abcdefghijklmnop") || strings.Contains(got, "SECRETSECRET") {
			t.Errorf("shownBody(%.40q) = %s, want %s", tc.body, got, tc.want)
		}
	}
	if got := shownBody([]byte(strings.Repeat("é", 300)), false, ""); !strings.HasSuffix(got, `…"`) || len(got) > shownStart+10 {
		t.Errorf("long text: %s", got)
	}
}

// A create whose operation runs out of time while every request waits for
// GitLab's rate limit was never sent: the error says so.
func TestCreateTimedOutBeforeSending(t *testing.T) {
	t.Parallel()
	mock, client, _ := mockWithAgent(t, testMaintainerToken, "production")
	mock.InjectFault(mockgitlab.Fault{Method: "GET", Pattern: "/api/v4/user", Status: http.StatusTooManyRequests,
		Count: 2, Headers: map[string]string{"Retry-After": "30", "RateLimit-Limit": "60"}})
	// A second 429 within the first one's wait shows the window used up: it
	// holds every request of the client for 30 seconds.
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_ = client.CheckAuth(ctx)
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err := client.RegisterAgent(ctx, testProject, "late")
	e := explained(t, err)
	if !e.NotSent || e.OutcomeUnknown || !strings.Contains(e.Detail, "never reached GitLab") {
		t.Errorf("not sent %v, outcome unknown %v: %s", e.NotSent, e.OutcomeUnknown, e.Detail)
	}
	if n := mock.CountRequests("POST", agentsPattern); n != 0 {
		t.Errorf("%d POSTs reached GitLab", n)
	}
}

// The repository files, GET /metadata, GraphQL and the Kubernetes access tokens refuse each answer that
// is not GitLab's: nothing is taken from it (no empty file, no disabled KAS, no "not connected", no
// deleted file or revoked token), and the error names the request and shows what came back.
func TestAnswersThatAreNotGitLabs_filesMetadataGraphQLTokens(t *testing.T) {
	t.Parallel()
	type fixture struct {
		ref AgentRef
		pat *KubernetesProxyToken
	}
	filePattern := "/api/v4/projects/20/repository/files/*"
	ops := []struct {
		name, method, pattern string
		hasID                 bool // the answer names the object asked for, so wrong_id applies
		do                    func(c *Client, f fixture) error
	}{
		{"read project", "GET", "/api/v4/projects/20", true, func(c *Client, _ fixture) error {
			_, err := c.Repository(context.Background(), strconv.FormatInt(testProjectID, 10))
			return err
		}},
		{"read file", "GET", filePattern, true, func(c *Client, _ fixture) error {
			_, err := c.GetRepositoryFile(context.Background(), testProjectID, testFilePath, "main")
			return err
		}},
		{"delete file", "DELETE", filePattern, false, func(c *Client, _ fixture) error {
			return c.DeleteRepositoryFile(context.Background(), testProjectID, testFilePath, FileCommit{Branch: "main", Message: "Remove"})
		}},
		{"read metadata", "GET", "/api/v4/metadata", false, func(c *Client, _ fixture) error {
			_, err := c.Metadata(context.Background())
			return err
		}},
		// A wrong agent in a GraphQL answer is GitLab's answer for an agent registered again under its
		// name, which Connections refuses on its own.
		{"read connections", "POST", "/api/graphql", false, func(c *Client, f fixture) error {
			_, err := c.Connections(context.Background(), f.ref)
			return err
		}},
		{"revoke personal access token", "DELETE", "/api/v4/personal_access_tokens/self", false, func(c *Client, f fixture) error {
			return c.RevokeTokenSelf(context.Background(), f.pat.Token, f.pat.ID)
		}},
	}
	answers := []struct{ answer, shows string }{
		{mockgitlab.AnswerHTML, `Content-Type "text/html; charset=utf-8", body starting with "<!DOCTYPE html>`},
		{mockgitlab.AnswerRedirect, `/users/sign_in`},
		{mockgitlab.AnswerEmptyObject, `body starting with {}`},
		{mockgitlab.AnswerEmptyList, `body starting with []`},
		{mockgitlab.AnswerWrongID, `status 200`},
	}
	for _, op := range ops {
		for _, a := range answers {
			if a.answer == mockgitlab.AnswerWrongID && !op.hasID {
				continue
			}
			t.Run(op.name+"/"+a.answer, func(t *testing.T) {
				t.Parallel()
				mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
				ctx := context.Background()
				if _, err := client.CreateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 1\n"), FileCommit{Branch: "main", Message: "Add"}); err != nil {
					t.Fatal(err)
				}
				ref, err := client.AgentRef(ctx, testProject, agentID)
				if err != nil {
					t.Fatal(err)
				}
				pat, err := client.CreateKubernetesProxyToken(ctx, "kubectl", "", time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2))
				if err != nil {
					t.Fatal(err)
				}
				mock.InjectFault(mockgitlab.Fault{Method: op.method, Pattern: op.pattern, Answer: a.answer, Count: 10})
				err = op.do(client, fixture{ref: ref, pat: pat})
				if err == nil {
					t.Fatal("an answer that is not GitLab's was taken for a success")
				}
				if IsNotFound(err) || AnswerOf(err) == nil {
					t.Fatalf("IsNotFound %v, AnswerOf %v: %v", IsNotFound(err), AnswerOf(err), err)
				}
				e := explained(t, err)
				for _, want := range []string{"is not one GitLab's API gives", op.method + " http", a.shows} {
					if !strings.Contains(e.Detail, want) {
						t.Errorf("detail lacks %q:\n%s", want, e.Detail)
					}
				}
				if strings.Contains(e.Detail, testMaintainerToken) || strings.Contains(e.Detail, pat.Token) {
					t.Error("the error carries a secret")
				}
				if content, ok := mock.RepositoryFile(testProjectID, testFilePath); !ok || string(content) != "a: 1\n" {
					t.Errorf("the file is %q (there: %v)", content, ok)
				}
				if pats := mock.PersonalAccessTokens(); len(pats) != 1 || pats[0].State != "active" {
					t.Errorf("personal access tokens %+v", pats)
				}
			})
		}
	}
}

// A file create or update answered by something that is not GitLab's may have made its commit: the
// file is read back, and holding exactly the content sent, it was written; otherwise the outcome is
// unknown and nothing more is written.
func TestFileWritesAnsweredNotByGitLab(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	commit := FileCommit{Branch: "main", Message: "Write"}
	for _, answer := range mockgitlab.FaultAnswers {
		for _, committed := range []bool{false, true} {
			if answer == mockgitlab.AnswerWrongID && !committed {
				continue // a wrong ID is always handled
			}
			t.Run(fmt.Sprintf("%s/committed=%v", answer, committed), func(t *testing.T) {
				t.Parallel()
				mock, client := mockRepository(t)
				f, err := client.CreateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 1\n"), commit)
				if err != nil {
					t.Fatal(err)
				}
				mock.InjectFault(mockgitlab.Fault{Method: "PUT", Answer: answer, AfterCommit: committed})
				mock.InjectFault(mockgitlab.Fault{Method: "POST", Answer: answer, AfterCommit: committed})
				g, updateErr := client.UpdateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 2\n"), f.LastCommitID, commit)
				const other = ".gitlab/agents/other/config.yaml"
				h, createErr := client.CreateRepositoryFile(ctx, testProjectID, other, []byte("b: 1\n"), commit)
				content, _ := mock.RepositoryFile(testProjectID, testFilePath)
				_, created := mock.RepositoryFile(testProjectID, other)
				last, _ := mock.FileLastCommit(testProjectID, testFilePath)
				if committed {
					if updateErr != nil || string(g.Content) != "a: 2\n" || g.LastCommitID != last.ID {
						t.Errorf("update read back: %+v, %v", g, updateErr)
					}
					if createErr != nil || string(h.Content) != "b: 1\n" || !created {
						t.Errorf("create read back: %+v, %v", h, createErr)
					}
					return
				}
				for what, err := range map[string]error{"update": updateErr, "create": createErr} {
					if e := explained(t, err); !e.OutcomeUnknown || e.Answer == nil {
						t.Errorf("%s: outcome unknown %v, answer %v: %v", what, e.OutcomeUnknown, e.Answer, err)
					}
				}
				if string(content) != "a: 1\n" || created {
					t.Errorf("the file holds %q, the other was created: %v", content, created)
				}
			})
		}
	}
}

// A personal access token create answered by something that is not GitLab's hands out no token, and
// says that GitLab may have created one that expires on its own.
func TestKubernetesProxyTokenAnsweredNotByGitLab(t *testing.T) {
	t.Parallel()
	expiresOn := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	for _, answer := range []string{mockgitlab.AnswerHTML, mockgitlab.AnswerRedirect, mockgitlab.AnswerEmptyObject, mockgitlab.AnswerEmptyList} {
		for _, committed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/committed=%v", answer, committed), func(t *testing.T) {
				t.Parallel()
				mock, client, _ := mockWithAgent(t, testMaintainerToken, "production")
				mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: "/api/v4/user/personal_access_tokens", Answer: answer, AfterCommit: committed})
				tok, err := client.CreateKubernetesProxyToken(context.Background(), "kubectl", "", expiresOn)
				if tok != nil {
					t.Fatalf("a token was handed out: id %d", tok.ID)
				}
				e := explained(t, err)
				if !e.OutcomeUnknown || e.Answer == nil || !strings.Contains(e.Detail, "is not one GitLab's API gives") ||
					!strings.Contains(e.Detail, "stops working at 00:00 UTC on "+expiresOn.Format(time.DateOnly)) {
					t.Errorf("outcome unknown %v, answer %v: %s", e.OutcomeUnknown, e.Answer, e.Detail)
				}
				for _, p := range mock.PersonalAccessTokens() {
					if strings.Contains(e.Detail, p.Token) {
						t.Error("the error carries the token")
					}
				}
			})
		}
	}
}
