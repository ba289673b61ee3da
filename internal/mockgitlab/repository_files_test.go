package mockgitlab

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// Tests of the Repository Files API, written from doc/api/repository_files.md and lib/api/files.rb as the
// reference describes them.

const agentConfigSeg = ".gitlab%2Fagents%2Fmy-agent%2Fconfig.yaml"
const agentConfigPath = ".gitlab/agents/my-agent/config.yaml"

func filesURL(project, seg string) string {
	return "/projects/" + project + "/repository/files/" + seg
}

func (e *testEnv) write(method, seg, token, body string) result {
	e.t.Helper()
	return e.send(call{method: method, path: filesURL("20", seg), token: token, body: body, contentType: "application/json"})
}

func TestRepositoryFileCreateReadUpdateDelete(t *testing.T) {
	e := newEnv(t)
	content := "ci_access:\n  projects:\n    - id: group/project\n"

	r := e.write(http.MethodPost, agentConfigSeg, tokMaintainer,
		`{"branch":"main","content":`+jsonText(content)+`,"commit_message":"Add agent config","author_name":"Bot","author_email":"bot@example.com"}`)
	expect(t, r, 201, `{"file_path":".gitlab/agents/my-agent/config.yaml","branch":"main"}`)

	// client-go escapes "." as %2E: the mock decodes the segment itself.
	r = e.get(filesURL("root%2Ftest", "%2Egitlab%2Fagents%2Fmy-agent%2Fconfig%2Eyaml")+"?ref=main", tokReporter)
	expectStatus(t, r, 200)
	if got := keysOf(t, r.body); strings.Join(got, ",") != "blob_id,commit_id,content,content_sha256,encoding,execute_filemode,file_name,file_path,last_commit_id,ref,size" {
		t.Fatalf("keys = %v", got)
	}
	if !strings.HasPrefix(r.body, `{"file_name":"config.yaml","file_path":".gitlab/agents/my-agent/config.yaml","size":`) ||
		!strings.Contains(r.body, `"content":"`) || !strings.HasSuffix(r.body, `"}`) {
		t.Fatalf("key order differs from GitLab's: %s", r.body)
	}
	f := decode[fileJSON](t, r)
	sum := sha256.Sum256([]byte(content))
	if f.Encoding != "base64" || f.Size != int64(len(content)) || f.Ref != "main" || f.ContentSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("metadata %+v", f)
	}
	if f.BlobID != blobID([]byte(content)) {
		t.Fatalf("blob_id %s", f.BlobID)
	}
	if dec, _ := base64.StdEncoding.DecodeString(f.Content); string(dec) != content {
		t.Fatalf("content %q", dec)
	}
	if f.LastCommitID != f.CommitID {
		t.Fatalf("last_commit_id %s != commit_id %s right after the file's commit", f.LastCommitID, f.CommitID)
	}
	commits := e.srv.Commits(20)
	if len(commits) != 2 || commits[0].ID != f.CommitID || commits[0].Message != "Add agent config" ||
		commits[0].AuthorName != "Bot" || commits[0].AuthorEmail != "bot@example.com" || commits[0].UserID != 2 {
		t.Fatalf("commits %+v", commits)
	}
	if got, ok := e.srv.RepositoryFile(20, agentConfigPath); !ok || string(got) != content {
		t.Fatalf("RepositoryFile = %q, %v", got, ok)
	}

	// Another file's commit moves commit_id but not last_commit_id.
	expectStatus(t, e.write(http.MethodPost, "other.txt", tokMaintainer, `{"branch":"main","content":"x","commit_message":"other"}`), 201)
	r = e.get(filesURL("20", agentConfigSeg)+"?ref=HEAD", tokMaintainer)
	g := decode[fileJSON](t, r)
	if g.Ref != "HEAD" || g.LastCommitID != f.CommitID || g.CommitID == f.CommitID {
		t.Fatalf("after an unrelated commit: %+v (first %+v)", g, f)
	}

	// PUT with the last_commit_id read: 200; default author is the user.
	r = e.write(http.MethodPut, agentConfigSeg, tokMaintainer,
		`{"branch":"main","content":"e30K","encoding":"base64","commit_message":"Update","last_commit_id":"`+g.LastCommitID+`"}`)
	expect(t, r, 200, `{"file_path":".gitlab/agents/my-agent/config.yaml","branch":"main"}`)
	if got, _ := e.srv.RepositoryFile(20, agentConfigPath); string(got) != "{}\n" {
		t.Fatalf("after base64 update: %q", got)
	}
	if c := e.srv.Commits(20)[0]; c.AuthorName != "Maintainer" || c.AuthorEmail != "maintainer@example.com" {
		t.Fatalf("default author %+v", c)
	}

	// The same last_commit_id again is stale now.
	r = e.write(http.MethodPut, agentConfigSeg, tokMaintainer,
		`{"branch":"main","content":"y","commit_message":"Update","last_commit_id":"`+g.LastCommitID+`"}`)
	expect(t, r, 400, `{"message":"You are attempting to update a file that has changed since you started editing it."}`)
	// An unknown last_commit_id is not an error (file_has_changed? needs both commits).
	r = e.write(http.MethodPut, agentConfigSeg, tokMaintainer,
		`{"branch":"main","content":"y","commit_message":"Update","last_commit_id":"0123456789012345678901234567890123456789"}`)
	expectStatus(t, r, 200)

	// DELETE: 204, one commit; last_commit_id is not a DELETE parameter and is ignored.
	before := len(e.srv.Commits(20))
	r = e.send(call{method: http.MethodDelete, path: filesURL("20", agentConfigSeg), token: tokMaintainer,
		body: `{"branch":"main","commit_message":"Remove","last_commit_id":"` + g.LastCommitID + `"}`, contentType: "application/json"})
	expect(t, r, 204, "")
	if _, ok := e.srv.RepositoryFile(20, agentConfigPath); ok || len(e.srv.Commits(20)) != before+1 {
		t.Fatal("file still there or not exactly one commit")
	}
	expect(t, e.get(filesURL("20", agentConfigSeg)+"?ref=main", tokMaintainer), 404, `{"message":"404 File Not Found"}`)
	r = e.write(http.MethodDelete, agentConfigSeg, tokMaintainer, `{"branch":"main","commit_message":"Remove"}`)
	expect(t, r, 400, `{"message":"A file with this name doesn't exist"}`)
	r = e.write(http.MethodPut, agentConfigSeg, tokMaintainer, `{"branch":"main","content":"","commit_message":"x"}`)
	expect(t, r, 400, `{"message":"A file with this name doesn't exist"}`)
}

func TestRepositoryFileHeadAndRaw(t *testing.T) {
	e := newEnv(t)
	if _, err := e.srv.PushFile(20, "dir/a.txt", []byte("hello\n"), "developer", ""); err != nil {
		t.Fatal(err)
	}
	r := e.send(call{method: http.MethodHead, path: filesURL("20", "dir%2Fa.txt") + "?ref=main", token: tokReporter})
	expectStatus(t, r, 200)
	if r.body != "" || r.header.Get("X-Gitlab-File-Name") != "a.txt" || r.header.Get("X-Gitlab-Size") != "6" ||
		r.header.Get("X-Gitlab-Execute-Filemode") != "false" || r.header.Get("X-Gitlab-Ref") != "main" ||
		r.header.Get("X-Gitlab-Last-Commit-Id") == "" || r.header.Get("X-Gitlab-Blob-Id") != blobID([]byte("hello\n")) {
		t.Fatalf("HEAD headers %v body %q", r.header, r.body)
	}
	// git hash-object of "hello\n"
	if blobID([]byte("hello\n")) != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Fatalf("blob id %s is not git's", blobID([]byte("hello\n")))
	}
	r = e.get(filesURL("20", "dir%2Fa.txt")+"/raw", tokReporter)
	expect(t, r, 200, "hello\n")
	if r.header.Get("Cache-Control") != "max-age=0, private, must-revalidate, no-store, no-cache" ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), `inline; filename="a.txt"`) {
		t.Fatalf("raw headers %v", r.header)
	}
	// raw allows a leading "/".
	expect(t, e.get(filesURL("20", "%2Fdir%2Fa.txt")+"/raw", tokReporter), 200, "hello\n")
	expect(t, e.get(filesURL("20", "%2Fdir%2Fa.txt")+"?ref=main", tokReporter), 400, `{"error":"file_path should be a valid file path"}`)
}

func TestRepositoryFileReadErrors(t *testing.T) {
	e := newEnv(t)
	expect(t, e.get(filesURL("20", "README.md"), tokReporter), 400, `{"error":"ref is missing"}`)
	expect(t, e.get(filesURL("20", "README.md")+"?ref=", tokReporter), 400, `{"error":"ref is empty"}`)
	expect(t, e.get(filesURL("20", "..%2Fetc")+"?ref=main", tokReporter), 400, `{"error":"file_path should be a valid file path"}`)
	expect(t, e.get(filesURL("20", "a%252Fb")+"?ref=main", tokReporter), 400, `{"error":"file_path should be a valid file path"}`)
	expect(t, e.get(filesURL("20", "README.md")+"?ref=nope", tokReporter), 404, `{"message":"404 Commit Not Found"}`)
	expect(t, e.get(filesURL("20", "missing.md")+"?ref=main", tokReporter), 404, `{"message":"404 File Not Found"}`)
	expect(t, e.get(filesURL("20", "README.md")+"?ref=main", tokOutsider), 404, `{"message":"404 Project Not Found"}`)
	expect(t, e.get("/projects/20/repository/files/.gitlab/agents/x/config.yaml?ref=main", tokReporter), 404, `{"error":"404 Not Found"}`)
	if err := e.srv.SetMember(20, "reporter", "guest"); err != nil {
		t.Fatal(err)
	}
	expect(t, e.get(filesURL("20", "README.md")+"?ref=main", tokReporter), 403, `{"message":"403 Forbidden"}`)
	if err := e.srv.SetProjectVisibility(20, "public"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.get(filesURL("20", "README.md")+"?ref=main", tokOutsider), 200)
}

func TestRepositoryFileWriteErrors(t *testing.T) {
	e := newEnv(t)
	body := `{"branch":"main","content":"a","commit_message":"m"}`
	// Default-branch protection: Developers may not push to main (400, not 403).
	expect(t, e.write(http.MethodPost, agentConfigSeg, tokDeveloper, body), 400, `{"message":"You are not allowed to push into this branch"}`)
	expect(t, e.write(http.MethodPost, agentConfigSeg, tokReporter, body), 403, `{"message":"403 Forbidden"}`)
	expect(t, e.write(http.MethodPost, agentConfigSeg, tokOutsider, body), 404, `{"message":"404 Project Not Found"}`)
	if err := e.srv.SetBranchProtection(20, "main", "developer"); err != nil {
		t.Fatal(err)
	}
	expect(t, e.write(http.MethodPost, agentConfigSeg, tokDeveloper, body), 201, `{"file_path":".gitlab/agents/my-agent/config.yaml","branch":"main"}`)
	expect(t, e.write(http.MethodPost, agentConfigSeg, tokDeveloper, body), 400, `{"message":"A file with this name already exists"}`)
	expect(t, e.write(http.MethodPost, ".gitlab%2Fagents", tokDeveloper, body), 400, `{"message":"A directory with this name already exists"}`)
	expect(t, e.write(http.MethodPost, "x.txt", tokDeveloper, `{"branch":"nope","content":"a","commit_message":"m"}`), 400,
		`{"message":"You can only create or edit files when you are on a branch"}`)
	expectStatus(t, e.write(http.MethodPost, "x.txt", tokDeveloper, `{"branch":"feature","start_branch":"main","content":"a","commit_message":"m"}`), 201)
	expect(t, e.write(http.MethodPost, "y.txt", tokDeveloper, `{"branch":"feature","start_branch":"main","content":"a","commit_message":"m"}`), 400,
		`{"message":"A branch called 'feature' already exists. Switch to that branch in order to make changes"}`)
	if _, ok := e.srv.RepositoryFile(20, "x.txt"); ok {
		t.Fatal("a write to another branch reached the default branch")
	}
}

func TestRepositoryFileParamErrorsByVersion(t *testing.T) {
	seed := DefaultSeed()
	seed.Settings.GitLabVersion = "18.6.0"
	old := newEnvWithSeed(t, seed)
	expect(t, old.write(http.MethodPost, "a.txt", tokMaintainer, `{"commit_message":""}`), 400, `{"error":"branch is missing, commit_message is empty, content is missing"}`)
	expect(t, old.write(http.MethodPost, "a.txt", tokMaintainer, `{"branch":"main","commit_message":"m","content":"x","encoding":"hex"}`), 400, `{"error":"encoding does not have a valid value"}`)
	expect(t, old.write(http.MethodPut, "a.txt", tokMaintainer, `{"branch":"main","commit_message":"m","content":"x","execute_filemode":"maybe"}`), 400, `{"error":"execute_filemode is invalid"}`)

	e := newEnv(t) // 19.0
	expect(t, e.write(http.MethodPost, "a.txt", tokMaintainer, `{"branch":"main","commit_message":"m"}`), 400, `{"message":"400 Bad request - content is required"}`)
	expect(t, e.write(http.MethodPost, "a.txt", tokMaintainer, `{"branch":"main","commit_message":"m","content":"x","encoding":"hex"}`), 400, `{"message":"400 Bad request - encoding must be text or base64"}`)
	expect(t, e.write(http.MethodPost, "a.txt", tokMaintainer, `{"branch":"main","commit_message":"m","content":"x","execute_filemode":"maybe"}`), 400, `{"message":"400 Bad request - execute_filemode must be a boolean"}`)
	// execute_filemode sets mode 100755.
	expectStatus(t, e.write(http.MethodPost, "run.sh", tokMaintainer, `{"branch":"main","commit_message":"m","content":"x","execute_filemode":true}`), 201)
	r := e.get(filesURL("20", "run.sh")+"?ref=main", tokMaintainer)
	if f := decode[fileJSON](t, r); !f.ExecuteFilemode {
		t.Fatalf("execute_filemode not kept: %s", r.body)
	}
}

func TestDefaultBranchOnProject(t *testing.T) {
	e := newEnv(t)
	if p := decode[map[string]any](t, e.get("/projects/20", tokReporter)); p["default_branch"] != "main" {
		t.Fatalf("reporter sees default_branch %v", p["default_branch"])
	}
	if err := e.srv.SetMember(20, "reporter", "guest"); err != nil {
		t.Fatal(err)
	}
	r := e.get("/projects/20", tokReporter)
	if _, ok := decode[map[string]any](t, r)["default_branch"]; ok {
		t.Fatalf("a guest sees default_branch: %s", r.body)
	}
}

func TestRepositoryFileOutOfBandControls(t *testing.T) {
	e := newEnv(t)
	r := e.send(call{method: http.MethodPut, path: "/-/mock/projects/20/files/.gitlab/agents/a/config.yaml",
		body: `{"content":"observability: {}\n","username":"developer","commit_message":"Tune logging"}`})
	expectStatus(t, r, 200)
	c := decode[CommitInfo](t, r)
	if c.Message != "Tune logging" || c.AuthorName != "Developer" || c.UserID != 3 {
		t.Fatalf("commit %+v", c)
	}
	r = e.get("/-/mock/projects/20/files/.gitlab/agents/a/config.yaml", "")
	expect(t, r, 200, `{"content":"observability: {}\n","file_path":".gitlab/agents/a/config.yaml","last_commit_id":"`+c.ID+`"}`)
	expectStatus(t, e.send(call{method: http.MethodDelete, path: "/-/mock/projects/20/files/.gitlab/agents/a/config.yaml"}), 200)
	expectStatus(t, e.get("/-/mock/projects/20/files/.gitlab/agents/a/config.yaml", ""), 404)
	expectStatus(t, e.send(call{method: http.MethodDelete, path: "/-/mock/projects/20/files/.gitlab/agents/a/config.yaml"}), 404)

	expectStatus(t, e.send(call{method: http.MethodPut, path: "/-/mock/projects/20/protected_branches/main", body: `{"push_access":"no_one"}`}), 200)
	expect(t, e.write(http.MethodPost, "a.txt", tokRoot, `{"branch":"main","commit_message":"m","content":"x"}`), 400, `{"message":"You are not allowed to push into this branch"}`)
	expectStatus(t, e.send(call{method: http.MethodDelete, path: "/-/mock/projects/20/protected_branches/main"}), 204)
	expectStatus(t, e.write(http.MethodPost, "a.txt", tokDeveloper, `{"branch":"main","commit_message":"m","content":"x"}`), 201)
	if len(e.srv.Requests()) != 2 {
		t.Fatalf("control requests were logged: %+v", e.srv.Requests())
	}
}

func jsonText(s string) string {
	return string(marshalJSON(s))
}

func TestRepositoryFileEmptyRepository(t *testing.T) {
	seed := DefaultSeed()
	seed.Projects[0].EmptyRepository = true
	e := newEnvWithSeed(t, seed)
	// default_branch is main all the same; the branch does not exist yet.
	if p := decode[map[string]any](t, e.get("/projects/20", tokReporter)); p["default_branch"] != "main" {
		t.Fatalf("default_branch %v", p["default_branch"])
	}
	expect(t, e.get(filesURL("20", "README.md")+"?ref=main", tokReporter), 404, `{"message":"404 Commit Not Found"}`)
	expect(t, e.get(filesURL("20", "README.md")+"/raw", tokReporter), 404, `{"message":"404 Commit Not Found"}`)
	// Every ref counts as protected: a Developer may not push the first commit, a Maintainer may.
	expect(t, e.write(http.MethodPost, "README.md", tokDeveloper, `{"branch":"feature","content":"x","commit_message":"m"}`), 400,
		`{"message":"You are not allowed to push into this branch"}`)
	expectStatus(t, e.write(http.MethodPost, "README.md", tokMaintainer, `{"branch":"main","content":"x","commit_message":"first"}`), 201)
	if got, ok := e.srv.RepositoryFile(20, "README.md"); !ok || string(got) != "x" {
		t.Fatalf("after the first commit: %q %v", got, ok)
	}
	if c := e.srv.Commits(20); len(c) != 1 || c[0].Message != "first" {
		t.Fatalf("commits %+v", c)
	}
	// Now main exists and is protected for Maintainers; other branches are not protected.
	expect(t, e.write(http.MethodPost, "b.txt", tokDeveloper, `{"branch":"main","content":"x","commit_message":"m"}`), 400,
		`{"message":"You are not allowed to push into this branch"}`)
}
