package gitlab

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const (
	testOutsiderToken = "glpat-mock-outsider-00000000"
	tokensPattern     = "/api/v4/projects/*/cluster_agents/*/tokens"
)

func mustCreateToken(t *testing.T, mock *mockgitlab.Server, agentID int64, name string) mockgitlab.TokenInfo {
	t.Helper()
	tok, err := mock.CreateToken(agentID, name, "", testUserID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// assertNoSecret fails if any secret the mock ever issued appears in err.
func assertNoSecret(t *testing.T, mock *mockgitlab.Server, err error) {
	t.Helper()
	for id := int64(1); id < 100; id++ {
		if tok, ok := mock.Token(id); ok && tok.Token != "" && strings.Contains(err.Error(), tok.Token) {
			t.Errorf("the error carries the secret of token %d", id)
		}
	}
}

func explained(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T (%v), want *gitlab.Error", err, err)
	}
	return e
}

func TestCreateAgentToken_limitListsTheActiveTokensAndCreatesNothing(t *testing.T) {
	t.Parallel()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	used := mustCreateToken(t, mock, agentID, "cluster-eu")
	idle := mustCreateToken(t, mock, agentID, "cluster-us")
	usedAt := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := mock.MarkTokenUsed(used.ID, usedAt); err != nil {
		t.Fatal(err)
	}
	mock.ResetRequests()

	_, err := client.CreateAgentToken(context.Background(), testProject, agentID, "third", nil)
	e := explained(t, err)
	if !strings.Contains(e.Summary, "already has 2 active tokens") {
		t.Errorf("summary %q does not say the agent has two active tokens", e.Summary)
	}
	for _, want := range []string{
		`token_id ` + strconv.FormatInt(used.ID, 10) + ` ("cluster-eu")`,
		`token_id ` + strconv.FormatInt(idle.ID, 10) + ` ("cluster-us")`,
		"created " + used.CreatedAt.UTC().Format(time.RFC3339),
		"last used 2025-03-04T05:06:07Z",
		"never used",
		"Nothing was created or revoked",
		"Operate > Kubernetes clusters",
		"[kind token limit]",
	} {
		if !strings.Contains(described(e), want) {
			t.Errorf("detail lacks %q:\n%s", want, e.Detail)
		}
	}
	// GitLab enforces the limit: one POST, refused, and nothing created.
	if n := mock.CountRequests("POST", tokensPattern); n != 1 {
		t.Errorf("saw %d POSTs, want the one GitLab refused", n)
	}
	if n := len(mock.ActiveTokens(agentID)); n != 2 {
		t.Errorf("%d active tokens after the refused create, want 2", n)
	}
	// The list lacks last_used_at: each listed token is read once.
	if n := mock.CountRequests("GET", tokensPattern+"/*"); n != 2 {
		t.Errorf("saw %d token GETs, want 2", n)
	}
	assertNoSecret(t, mock, err)
}

func TestCreateAgentToken_limitRaceIsExplained(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	existing := mustCreateToken(t, mock, agentID, "existing")
	// Another client takes the second slot between the list and the POST.
	mock.InjectFault(mockgitlab.Fault{
		Method: "POST", Pattern: tokensPattern, Status: 400,
		Body: `{"message":"400 Bad request - An agent can have only two active tokens at a time"}`,
	})
	_, err := client.CreateAgentToken(context.Background(), testProject, agentID, "racer", nil)
	e := explained(t, err)
	for _, want := range []string{
		"An agent can have only two active tokens at a time",
		`token_id ` + strconv.FormatInt(existing.ID, 10) + ` ("existing")`,
		"[kind token limit]",
	} {
		if !strings.Contains(described(e), want) {
			t.Errorf("detail lacks %q:\n%s", want, e.Detail)
		}
	}
	if n := mock.CountRequests("POST", tokensPattern); n != 1 {
		t.Errorf("saw %d POSTs, want exactly 1", n)
	}
}

func TestCreateAgentToken_lostAnswerRevokesNothing(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	// A token of the same name already exists (create_before_destroy): it must
	// survive, and is no candidate. Terraform read it (refresh) before
	// creating its successor.
	old := mustCreateToken(t, mock, agentID, "rotating")
	if _, err := client.GetAgentToken(context.Background(), testProject, agentID, old.ID); err != nil {
		t.Fatal(err)
	}
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: tokensPattern, Status: 502, AfterCommit: true})

	_, err := client.CreateAgentToken(context.Background(), testProject, agentID, "rotating", nil)
	e := explained(t, err)
	if e.Status != 502 || !e.OutcomeUnknown {
		t.Errorf("status %d, outcome unknown %v; want 502, true", e.Status, e.OutcomeUnknown)
	}
	if n := mock.CountRequests("POST", tokensPattern); n != 1 {
		t.Fatalf("saw %d POSTs; a create must never be repeated", n)
	}
	if n := mock.CountRequests("DELETE", tokensPattern+"/*"); n != 0 {
		t.Errorf("saw %d revocations, want none", n)
	}
	orphanID := old.ID + 1
	orphan, ok := mock.Token(orphanID)
	if !ok || orphan.Name != "rotating" || orphan.Status != "active" {
		t.Fatalf("token %d created despite the lost answer: %+v, want an active token left as it is", orphanID, orphan)
	}
	if tok, _ := mock.Token(old.ID); tok.Status != "active" {
		t.Errorf("pre-existing token %d of the same name is %s; it must stay active", old.ID, tok.Status)
	}
	if len(e.Candidates) != 1 || e.Candidates[0].ID != orphanID || e.Candidates[0].CreatedByUserID == 0 {
		t.Errorf("candidates %+v, want token %d with its creator", e.Candidates, orphanID)
	}
	for _, want := range []string{
		"Nothing was revoked",
		"token_id " + strconv.FormatInt(orphanID, 10) + ` ("rotating"), created `,
		"by user ",
	} {
		if !strings.Contains(e.Detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, e.Detail)
		}
	}
	if strings.Contains(e.Detail, "token_id "+strconv.FormatInt(old.ID, 10)+" ") {
		t.Errorf("detail names the token this process read:\n%s", e.Detail)
	}
	assertNoSecret(t, mock, err)
}

// A token this process did not create or read, created while the request was
// under way, may belong to another state: nothing is revoked, and the error
// names the candidates.
func TestCreateAgentToken_lostAnswerNeverRevokesWhatAnotherStateMayHold(t *testing.T) {
	t.Parallel()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	other := mustCreateToken(t, mock, agentID, "rotating") // another state's, just created
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: tokensPattern, Status: 502, AfterCommit: true})

	_, err := client.CreateAgentToken(context.Background(), testProject, agentID, "rotating", nil)
	e := explained(t, err)
	if !e.OutcomeUnknown {
		t.Error("OutcomeUnknown is not set")
	}
	if n := mock.CountRequests("DELETE", tokensPattern+"/*"); n != 0 {
		t.Errorf("saw %d revocations, want none", n)
	}
	if n := len(mock.ActiveTokens(agentID)); n != 2 {
		t.Errorf("%d active tokens, want 2 (nothing revoked)", n)
	}
	if len(e.Candidates) != 2 {
		t.Errorf("%d candidates, want 2", len(e.Candidates))
	}
	for _, want := range []string{
		"Nothing was revoked",
		`token_id ` + strconv.FormatInt(other.ID, 10) + ` ("rotating")`,
		`token_id ` + strconv.FormatInt(other.ID+1, 10) + ` ("rotating")`,
	} {
		if !strings.Contains(e.Detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, e.Detail)
		}
	}
	assertNoSecret(t, mock, err)
}

// Two creates for one agent in one process run one after the other; the
// second's answer is lost: nothing is revoked, and the token the first
// create returned (which state holds) is no candidate.
func TestCreateAgentToken_serializedCreatesWithALostAnswer(t *testing.T) {
	t.Parallel()
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: tokensPattern, Status: 502, AfterCommit: true, Count: 1})
	type result struct {
		tok *gl.AgentToken
		err error
	}
	results := make(chan result, 2)
	for _, name := range []string{"a", "b"} {
		go func() {
			tok, err := client.CreateAgentToken(context.Background(), testProject, agentID, "same", gl.Ptr(name))
			results <- result{tok, err}
		}()
	}
	var held *gl.AgentToken
	var failed *Error
	for range 2 {
		r := <-results
		if r.err != nil {
			failed = explained(t, r.err)
			continue
		}
		held = r.tok
	}
	if held == nil || failed == nil {
		t.Fatalf("want one create to succeed and one to fail, got held=%v failed=%v", held, failed)
	}
	if n := len(mock.ActiveTokens(agentID)); n != 2 {
		t.Errorf("%d active tokens, want 2: nothing revoked", n)
	}
	if len(failed.Candidates) != 1 || failed.Candidates[0].ID == held.ID {
		t.Errorf("candidates %+v, want only the lost create's token, not %d", failed.Candidates, held.ID)
	}
}

func TestCreateAgentToken_lostAnswerWithNothingCreated(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: tokensPattern, Status: 503})

	_, err := client.CreateAgentToken(context.Background(), testProject, agentID, "lost", nil)
	e := explained(t, err)
	if !strings.Contains(e.Detail, `GitLab created no token named "lost"`) {
		t.Errorf("detail does not say nothing was created:\n%s", e.Detail)
	}
	if n := mock.CountRequests("POST", tokensPattern); n != 1 {
		t.Errorf("saw %d POSTs, want exactly 1", n)
	}
	if n := mock.CountRequests("DELETE", tokensPattern+"/*"); n != 0 {
		t.Errorf("saw %d revocations, want none", n)
	}
}

func TestCreateAgentToken_returnsTheSecretOnce(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	tok, err := client.CreateAgentToken(context.Background(), testProject, agentID, "fresh", nil)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := mock.Token(tok.ID)
	if !ok || info.Token == "" || info.Token != tok.Token {
		t.Error("the secret returned differs from the one GitLab issued")
	}
	if tok.Status != "active" || tok.Name != "fresh" || tok.AgentID != agentID {
		t.Errorf("created token: status %q, name %q, agent %d", tok.Status, tok.Name, tok.AgentID)
	}
	// One POST: GitLab checks its limit itself.
	if got := len(mock.Requests()); got != 1 {
		t.Errorf("saw %d requests, want 1: %v", got, mock.Requests())
	}
}

func TestGetAgentToken_goneOnlyWhenTheTokenIs(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	tok := mustCreateToken(t, mock, agentID, "t")
	ctx := context.Background()

	if _, err := client.GetAgentToken(ctx, "20", agentID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := mock.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err := client.GetAgentToken(ctx, "20", agentID, tok.ID)
	if !IsNotFound(err) {
		t.Errorf("revoked token: IsNotFound=false, want true (err: %v)", err)
	}

	// A project the token's user cannot see is not a gone token.
	_, outsider, _ := mockWithAgent(t, testOutsiderToken, "production")
	_, err = outsider.GetAgentToken(ctx, testProject, agentID, tok.ID)
	if IsNotFound(err) || StatusCode(err) != 404 {
		t.Errorf("invisible project: IsNotFound=%v StatusCode=%d, want false, 404 (err: %v)", IsNotFound(err), StatusCode(err), err)
	}
	if !strings.Contains(err.Error(), "Project Not Found") {
		t.Errorf("error does not explain the missing project: %v", err)
	}
}

func TestRevokeAgentToken_isIdempotent(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	tok := mustCreateToken(t, mock, agentID, "t")
	ctx := context.Background()
	for range 2 {
		if err := client.RevokeAgentToken(ctx, "20", agentID, tok.ID); err != nil {
			t.Fatal(err)
		}
	}
	if info, _ := mock.Token(tok.ID); info.Status != "revoked" {
		t.Errorf("token is %s, want revoked", info.Status)
	}
	if err := mock.DeleteAgent(agentID); err != nil {
		t.Fatal(err)
	}
	if err := client.RevokeAgentToken(ctx, "20", agentID, tok.ID); err != nil {
		t.Errorf("revoking a token of a deleted agent: %v, want no error", err)
	}
}

func TestActiveAgentTokens_readsLastUsedAt(t *testing.T) {
	mock, client, agentID := mockWithAgent(t, testMaintainerToken, "production")
	a := mustCreateToken(t, mock, agentID, "a")
	b := mustCreateToken(t, mock, agentID, "b")
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := mock.MarkTokenUsed(b.ID, at); err != nil {
		t.Fatal(err)
	}
	tokens, err := client.ActiveAgentTokens(context.Background(), "20", agentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 || tokens[0].ID != b.ID || tokens[1].ID != a.ID {
		t.Fatalf("got %d tokens, want b then a (most recently used first)", len(tokens))
	}
	if tokens[0].LastUsedAt == nil || !tokens[0].LastUsedAt.Equal(at) || tokens[1].LastUsedAt != nil {
		t.Errorf("last_used_at not read: %v, %v", tokens[0].LastUsedAt, tokens[1].LastUsedAt)
	}
}
