package gitlab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const (
	testReporterToken = "glpat-mock-reporter-00000000"
)

// clientFor builds another client for the same mock with another API token.
func clientFor(t *testing.T, c *Client, apiToken string, cfg Config) *Client {
	t.Helper()
	cfg.BaseURL, cfg.Token = c.BaseURL(), apiToken
	other, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return other
}

// A Reporter gets GitLab's "404 Not found" for an agent and a token that
// exist: that is not "gone", and the error names the role reading needs.
func TestNotFoundForAReporterIsNotGone(t *testing.T) {
	t.Parallel()
	mock, maintainer, agentID := mockWithAgent(t, testMaintainerToken, "agent-1")
	tok := mustCreateToken(t, mock, agentID, "t1")
	reporter := clientFor(t, maintainer, testReporterToken, Config{Retries: 1})
	ctx := context.Background()

	_, err := reporter.GetAgent(ctx, testProject, agentID)
	e := asError(t, err)
	if IsNotFound(err) {
		t.Fatalf("GetAgent as a Reporter: IsNotFound, want a visibility error: %v", err)
	}
	assertContains(t, "Summary", e.Summary, "Cannot tell whether agent")
	assertContains(t, "Detail", e.Detail, "Developer", "Maintainer", "kept in state", "/user")

	_, err = reporter.GetAgentToken(ctx, testProject, agentID, tok.ID)
	e = asError(t, err)
	if IsNotFound(err) {
		t.Fatalf("GetAgentToken as a Reporter: IsNotFound, want a visibility error: %v", err)
	}
	assertContains(t, "Detail", e.Detail, "Developer", "kept in state")
	assertNoSecret(t, mock, err)

	// The same reads by the maintainer, once the objects are really gone,
	// are IsNotFound.
	if err := mock.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := maintainer.GetAgentToken(ctx, testProject, agentID, tok.ID); !IsNotFound(err) {
		t.Errorf("revoked token: %v, want IsNotFound", err)
	}
	tok2 := mustCreateToken(t, mock, agentID, "t2")
	if err := mock.DeleteAgent(agentID); err != nil {
		t.Fatal(err)
	}
	if _, err := maintainer.GetAgent(ctx, testProject, agentID); !IsNotFound(err) {
		t.Errorf("deleted agent: %v, want IsNotFound", err)
	}
	if _, err := maintainer.GetAgentToken(ctx, testProject, agentID, tok2.ID); !IsNotFound(err) {
		t.Errorf("token of a deleted agent: %v, want IsNotFound", err)
	}
	// ...but still not for the Reporter, who cannot see either way.
	if _, err := reporter.GetAgent(ctx, testProject, agentID); IsNotFound(err) {
		t.Errorf("deleted agent as a Reporter: IsNotFound, want a visibility error")
	}
}

// A non-member of a private project gets "404 Project Not Found": not gone.
func TestNotFoundForANonMemberIsNotGone(t *testing.T) {
	t.Parallel()
	mock, maintainer, agentID := mockWithAgent(t, testMaintainerToken, "agent-1")
	tok := mustCreateToken(t, mock, agentID, "t1")
	outsider := clientFor(t, maintainer, testOutsiderToken, Config{Retries: 1})
	for name, err := range map[string]error{
		"agent": func() error { _, err := outsider.GetAgent(context.Background(), testProject, agentID); return err }(),
		"token": func() error {
			_, err := outsider.GetAgentToken(context.Background(), testProject, agentID, tok.ID)
			return err
		}(),
	} {
		if err == nil || IsNotFound(err) {
			t.Errorf("%s as a non-member: %v, want an error that is not IsNotFound", name, err)
		}
	}
}

// A stalled GitLab gives an error naming the request and the timeout, within
// about that time, and the request is not repeated.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	mock, maintainer, agentID := mockWithAgent(t, testMaintainerToken, "agent-1")
	c := clientFor(t, maintainer, testMaintainerToken, Config{Retries: 3, RequestTimeout: 300 * time.Millisecond})
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, DelayMS: 5000, Count: 5})
	start := time.Now()
	_, err := c.GetAgent(context.Background(), testProject, agentID)
	elapsed := time.Since(start)
	e := asError(t, err)
	if elapsed > 2*time.Second {
		t.Errorf("GetAgent returned after %v with request_timeout 300ms", elapsed)
	}
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("error %v is not a TimeoutError", err)
	}
	assertContains(t, "Detail", described(e), "GET", "/cluster_agents/", "300ms", "[check request timeout]")
	// The mock logs the abandoned request once its handler notices; give it
	// a moment, then make sure no second attempt followed.
	agentGETs := func() int { return mock.CountRequests(http.MethodGet, "/api/v4/projects/*/cluster_agents/*") }
	for deadline := time.Now().Add(3 * time.Second); agentGETs() == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := agentGETs(); n != 1 {
		t.Errorf("%d GETs of the agent, want 1: a timed-out request is not repeated", n)
	}
}

// Ctrl-C (a cancelled context) ends a stalled request promptly.
func TestCancelEndsAStalledRequest(t *testing.T) {
	t.Parallel()
	mock, maintainer, agentID := mockWithAgent(t, testMaintainerToken, "agent-1")
	_ = maintainer
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, DelayMS: 30000})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := maintainer.GetAgent(ctx, testProject, agentID)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("GetAgent returned %v after cancel at 200ms", d)
	}
	if !IsInterrupted(err) {
		t.Fatalf("error %v is not IsInterrupted", err)
	}
	assertContains(t, "Detail", asError(t, err).Detail, "interrupted")
}

// A dropped connection is retried for GET and DELETE; a DELETE whose answer
// was lost and whose retry gets 404 is a success. A POST is never repeated.
func TestDroppedConnections(t *testing.T) {
	t.Parallel()
	mock, maintainer, agentID := mockWithAgent(t, testMaintainerToken, "agent-1")
	c := clientFor(t, maintainer, testMaintainerToken, Config{Retries: 3})
	ctx := context.Background()

	// Go's transport itself re-sends a GET once on a reused connection that
	// closed without an answer; drop more often than that.
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodGet, Drop: true, Count: 3})
	if _, err := c.GetAgent(ctx, testProject, agentID); err != nil {
		t.Fatalf("GetAgent after dropped connections: %v", err)
	}

	mock.InjectFault(mockgitlab.Fault{Method: http.MethodDelete, Drop: true, AfterCommit: true, Count: 3})
	if err := c.DeleteAgent(ctx, testProject, agentID); err != nil {
		t.Fatalf("DeleteAgent whose answer was lost: %v", err)
	}
	if _, ok := mock.Agent(agentID); ok {
		t.Error("the agent still exists")
	}

	mock.ResetRequests()
	mock.InjectFault(mockgitlab.Fault{Method: http.MethodPost, Drop: true, Count: 3})
	if _, _, err := c.RegisterAgent(ctx, testProject, "agent-2"); err == nil {
		t.Fatal("RegisterAgent succeeded with its connection dropped")
	}
	if n := mock.CountRequests(http.MethodPost, "/api/v4/projects/*/cluster_agents"); n != 1 {
		t.Errorf("%d POSTs, want 1: a POST is never repeated", n)
	}
}

// The throttle paces every client of one GitLab once rate limited, so that a
// steady limit below the parallelism fails nothing.
func TestThrottleUnderSteadyRateLimit(t *testing.T) {
	t.Parallel()
	mock, err := mockgitlab.New(mockgitlab.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	mock.SetRateLimit(5, time.Second)
	c, err := New(Config{BaseURL: srv.URL, Token: testMaintainerToken, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		go func() {
			_, _, err := c.RegisterAgent(context.Background(), testProject, "agent-"+strings.Repeat("a", i+1))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("RegisterAgent: %v", err)
		}
	}
	// 20 requests at 5 per second need at least 3 seconds after the first
	// window; far more would mean the throttle waits too long.
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("20 creates at 5/s took %v", d)
	}
	if got := len(mock.Agents(testProjectID)); got != n {
		t.Errorf("%d agents, want %d", got, n)
	}
}
