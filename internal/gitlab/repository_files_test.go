package gitlab

import (
	"context"
	"net/http"
	"testing"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

const (
	testFilePath     = ".gitlab/agents/prod/config.yaml"
	filesPattern     = "/api/v4/projects/20/repository/files/*"
	testReporterTok  = "glpat-mock-reporter-00000000"
	testDeveloperTok = "glpat-mock-developer-0000000"
)

// mockRepository starts a mock GitLab and returns it with a client of the maintainer's.
func mockRepository(t *testing.T) (*mockgitlab.Server, *Client) {
	t.Helper()
	mock, client, _ := mockWithAgent(t, testMaintainerToken, "prod")
	return mock, client
}

func TestRepositoryAndFileRoundTrip(t *testing.T) {
	mock, c := mockRepository(t)
	ctx := context.Background()
	repo, err := c.Repository(ctx, testProject)
	if err != nil {
		t.Fatal(err)
	}
	if repo.ProjectID != testProjectID || repo.DefaultBranch != "main" || repo.PathWithNamespace != testProject {
		t.Fatalf("repository %+v", repo)
	}
	commit := FileCommit{Branch: "main", Message: "Add", AuthorName: "Bot", AuthorEmail: "bot@example.com"}
	f, err := c.CreateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 1\n"), commit)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := mock.FileLastCommit(testProjectID, testFilePath)
	if string(f.Content) != "a: 1\n" || f.LastCommitID != last.ID || last.AuthorName != "Bot" || last.Message != "Add" {
		t.Fatalf("created %+v, mock's last commit %+v", f, last)
	}
	// An update with the last commit read succeeds; with an older one GitLab refuses and nothing is written.
	g, err := c.UpdateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 2\n"), f.LastCommitID, commit)
	if err != nil {
		t.Fatal(err)
	}
	if g.LastCommitID == f.LastCommitID {
		t.Fatal("the update's last_commit_id did not move")
	}
	_, err = c.UpdateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 3\n"), f.LastCommitID, commit)
	if Reason(err) != ReasonFileChanged {
		t.Fatalf("stale update: %v", err)
	}
	assertContains(t, "stale update", err.Error(), "changed by another commit", "nothing was written")
	if content, _ := mock.RepositoryFile(testProjectID, testFilePath); string(content) != "a: 2\n" {
		t.Fatalf("a stale update wrote %q", content)
	}
	// Create over an existing file: refused, with the reason.
	if _, err := c.CreateRepositoryFile(ctx, testProjectID, testFilePath, []byte("x"), commit); Reason(err) != ReasonFileExists {
		t.Fatalf("create over a file: %v", err)
	}
	if err := c.DeleteRepositoryFile(ctx, testProjectID, testFilePath, commit); err != nil {
		t.Fatal(err)
	}
	// Deleting again is done already.
	if err := c.DeleteRepositoryFile(ctx, testProjectID, testFilePath, commit); err != nil {
		t.Fatalf("deleting a missing file: %v", err)
	}
	_, err = c.GetRepositoryFile(ctx, testProjectID, testFilePath, "main")
	if !IsNotFound(err) {
		t.Fatalf("a deleted file is not gone: %v", err)
	}
}

// A 404 for the project (a non-member) or a 403 (a Guest) leaves the question open: only GitLab's
// "404 File Not Found", sent after the read permission check, shows that a file is gone.
func TestRepositoryFileGoneOnlyWhenVisible(t *testing.T) {
	mock, c := mockRepository(t)
	if _, err := mock.PushFile(testProjectID, testFilePath, []byte("a: 1\n"), "root", ""); err != nil {
		t.Fatal(err)
	}
	srvURL := c.BaseURL()
	outsider, _ := New(Config{BaseURL: srvURL, Token: testOutsiderToken, Retries: 1})
	_, err := outsider.GetRepositoryFile(context.Background(), testProjectID, testFilePath, "main")
	if err == nil || IsNotFound(err) || StatusCode(err) != http.StatusNotFound {
		t.Fatalf("non-member: %v (gone %v)", err, IsNotFound(err))
	}
	if err := mock.SetMember(testProjectID, "reporter", "guest"); err != nil {
		t.Fatal(err)
	}
	guest, _ := New(Config{BaseURL: srvURL, Token: testReporterTok, Retries: 1})
	_, err = guest.GetRepositoryFile(context.Background(), testProjectID, testFilePath, "main")
	if err == nil || IsNotFound(err) {
		t.Fatalf("guest: %v", err)
	}
	assertContains(t, "guest read", err.Error(), "403 Forbidden", "Reporter role")
	_, err = guest.Repository(context.Background(), testProject)
	assertContains(t, "guest repository", err.Error(), "did not show the default branch", "Reporter role")
}

func TestRepositoryFileProtectedBranch(t *testing.T) {
	_, c := mockRepository(t)
	dev, _ := New(Config{BaseURL: c.BaseURL(), Token: testDeveloperTok, Retries: 1})
	_, err := dev.CreateRepositoryFile(context.Background(), testProjectID, testFilePath, []byte("a: 1\n"), FileCommit{Branch: "main", Message: "m"})
	if Reason(err) != ReasonBranchProtected {
		t.Fatalf("developer on main: %v", err)
	}
	assertContains(t, "protected", err.Error(), `may not push to branch "main"`, "Maintainer role")
}

// A write whose answer is lost is not repeated; reading the file settles it.
func TestRepositoryFileLostAnswers(t *testing.T) {
	mock, c := mockRepository(t)
	ctx := context.Background()
	commit := FileCommit{Branch: "main", Message: "m"}
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: filesPattern, Status: http.StatusBadGateway, AfterCommit: true})
	f, err := c.CreateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 1\n"), commit)
	if err != nil || string(f.Content) != "a: 1\n" {
		t.Fatalf("create with a lost answer: %v", err)
	}
	mock.InjectFault(mockgitlab.Fault{Method: "PUT", Pattern: filesPattern, Drop: true, AfterCommit: true})
	g, err := c.UpdateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 2\n"), f.LastCommitID, commit)
	if err != nil || string(g.Content) != "a: 2\n" {
		t.Fatalf("update with a lost answer: %v", err)
	}
	if n := mock.CountRequests("PUT", filesPattern); n != 1 {
		t.Fatalf("the update was sent %d times", n)
	}
	mock.InjectFault(mockgitlab.Fault{Method: "DELETE", Pattern: filesPattern, Status: http.StatusBadGateway, AfterCommit: true})
	if err := c.DeleteRepositoryFile(ctx, testProjectID, testFilePath, commit); err != nil {
		t.Fatalf("delete with a lost answer: %v", err)
	}
	if n := mock.CountRequests("DELETE", filesPattern); n != 1 {
		t.Fatalf("the delete was sent %d times", n)
	}
	// A 502 before anything happened: the outcome is unknown, and said so.
	mock.InjectFault(mockgitlab.Fault{Method: "POST", Pattern: filesPattern, Status: http.StatusBadGateway})
	_, err = c.CreateRepositoryFile(ctx, testProjectID, testFilePath, []byte("a: 1\n"), commit)
	if e := asError(t, err); !e.OutcomeUnknown {
		t.Fatalf("a failed create: %v", err)
	}
	if n := mock.CountRequests("POST", filesPattern); n != 2 {
		t.Fatalf("%d creates sent, want 2 (none repeated)", n)
	}
}
