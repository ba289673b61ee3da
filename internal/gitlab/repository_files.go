package gitlab

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// GitLab's Repository Files API answers (lib/api/files.rb, app/services/files/*): 400s with these
// messages, and the 404s of a read.
const (
	msgFileExists     = "A file with this name already exists"
	msgFileMissing    = "A file with this name doesn't exist"
	msgFileChanged    = "You are attempting to update a file that has changed since you started editing it."
	msgCannotPush     = "You are not allowed to push into this branch"
	msgFileNotFound   = "404 File Not Found"
	msgCommitNotFound = "404 Commit Not Found"
)

// Reasons a repository-file request failed, for callers that act on them.
const (
	// ReasonFileExists: a create found a file at the path.
	ReasonFileExists = "file_exists"
	// ReasonFileChanged: an update carried a last_commit_id older than the file's last commit.
	ReasonFileChanged = "file_changed"
	// ReasonBranchProtected: the user may not push to the branch.
	ReasonBranchProtected = "branch_protected"
)

// Reason returns why a repository-file request failed (one of the Reason constants), or "".
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.reason
	}
	return ""
}

// ProjectRepository is what a project's API answer says about its repository.
type ProjectRepository struct {
	ProjectID         int64
	PathWithNamespace string
	// DefaultBranch is the branch GitLab reads configuration from.
	DefaultBranch string
}

// RepositoryFile is one file at a commit of a branch.
type RepositoryFile struct {
	Path    string
	Content []byte
	BlobID  string
	// CommitID is the commit the branch pointed at when the file was read.
	CommitID string
	// LastCommitID is the last commit that changed the file: what an update sends back as
	// last_commit_id.
	LastCommitID string
}

// FileCommit is what a commit that writes or deletes a file says.
type FileCommit struct {
	Branch      string
	Message     string
	AuthorName  string // "" for the token's user
	AuthorEmail string // "" for the token's user's commit email
}

// Repository reads a project's ID, full path and default branch. GitLab shows the default branch only to
// users who may read the repository (Reporter and above on a private or internal project); for anyone
// else the error says so.
func (c *Client) Repository(ctx context.Context, project string) (*ProjectRepository, error) {
	var p struct {
		ID                int64   `json:"id"`
		PathWithNamespace string  `json:"path_with_namespace"`
		DefaultBranch     *string `json:"default_branch"`
	}
	resp, err := c.send(ctx, http.MethodGet, projectPath(project), nil, &p)
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		if problem := projectProblem(resp, project, p.ID); problem != "" {
			err = wrongObject(resp, http.StatusOK, problem)
		}
	}
	if err != nil {
		return nil, explain(err, resp, "read project "+strconv.Quote(project), Target{Project: project})
	}
	c.rememberProject(project, p.ID)
	if p.DefaultBranch == nil || *p.DefaultBranch == "" {
		return nil, &Error{
			Summary: fmt.Sprintf("Cannot read the repository of project %q", project),
			Detail: fmt.Sprintf("GitLab did not show the default branch of project %q (%d) to the token's user: "+
				"that user may not read the project's repository. Reading files needs at least the Reporter role "+
				"on the project; committing them the Developer role, and on a protected default branch the role "+
				"its protection allows to push (Maintainer by default).", project, p.ID),
		}
	}
	return &ProjectRepository{ProjectID: p.ID, PathWithNamespace: p.PathWithNamespace, DefaultBranch: *p.DefaultBranch}, nil
}

func fileTarget(projectID int64, path string) Target {
	return Target{Project: strconv.FormatInt(projectID, 10), Object: "file " + strconv.Quote(path)}
}

// GetRepositoryFile reads a file at the tip of branch. A file that is not there is an error for which
// IsNotFound is true: GitLab answers "404 File Not Found" (or, in an empty repository, "404 Commit
// Not Found") only after it has checked that the caller may read the repository, so the 404 shows the
// file is gone. A 404 for the project, or a 403, keeps the question open and is an ordinary error.
func (c *Client) GetRepositoryFile(ctx context.Context, projectID int64, path, branch string) (*RepositoryFile, error) {
	f, resp, err := c.api.RepositoryFiles.GetFile(projectID, path, &gl.GetFileOptions{Ref: gl.Ptr(branch)}, gl.WithContext(ctx))
	if err = checkAnswer(resp, err, http.StatusOK); err == nil {
		// GitLab's answer names the file and the commits; an empty document is no file, not an empty one.
		problem := namedObjectProblem(resp, "file", f.FilePath, path)
		if problem == "" && (f.LastCommitID == "" || f.CommitID == "") {
			problem = fmt.Sprintf("it names no commit of file %q, which GitLab always does", path)
		}
		if problem != "" {
			err = wrongObject(resp, http.StatusOK, problem)
		}
	}
	if err != nil {
		explained := explain(err, resp, fmt.Sprintf("read %s on branch %q", path, branch), fileTarget(projectID, path))
		var e *Error
		if !errors.As(explained, &e) {
			return nil, explained
		}
		switch {
		case e.Status == http.StatusNotFound && (e.GitLabMessage == msgFileNotFound || e.GitLabMessage == msgCommitNotFound):
			e.gone = true
			e.Detail = fmt.Sprintf("There is no file %q on branch %q of project %d.", path, branch, projectID)
		case e.Status == http.StatusForbidden && !strings.Contains(e.GitLabMessage, "insufficient_scope"):
			e.Detail = fmt.Sprintf("The token's user may not read the repository of project %d (403 Forbidden). "+
				"Reading files needs at least the Reporter role on the project.", projectID)
		}
		return nil, explained
	}
	content, err := base64.StdEncoding.DecodeString(f.Content)
	if err != nil {
		return nil, &Error{Summary: fmt.Sprintf("Failed to read %s", path),
			Detail: fmt.Sprintf("GitLab answered content for %s of project %d that is not Base64: %v.", path, projectID, err)}
	}
	return &RepositoryFile{Path: f.FilePath, Content: content, BlobID: f.BlobID, CommitID: f.CommitID, LastCommitID: f.LastCommitID}, nil
}

// checkRetryCommit repeats a commit request only when it never reached GitLab (the connection could
// not be made): a write that reached GitLab may have made its commit, and repeating it would make
// another, or fail as a stale update of the file it had just written.
func checkRetryCommit(ctx context.Context, _ *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return err != nil && isDialError(err), nil
}

var _ retryablehttp.CheckRetry = checkRetryCommit

// CreateRepositoryFile creates a file in one commit on a branch and reads it back for its commit IDs
// (GitLab's answer names only the path and branch). When the outcome is unknown (a server error or
// no answer) the file is read instead of the request being repeated: if it holds exactly the content
// sent, the commit was made.
func (c *Client) CreateRepositoryFile(ctx context.Context, projectID int64, path string, content []byte, commit FileCommit) (*RepositoryFile, error) {
	opt := &gl.CreateFileOptions{
		Branch:        gl.Ptr(commit.Branch),
		Encoding:      gl.Ptr("base64"),
		Content:       gl.Ptr(base64.StdEncoding.EncodeToString(content)),
		CommitMessage: gl.Ptr(commit.Message),
		AuthorName:    optionalString(commit.AuthorName),
		AuthorEmail:   optionalString(commit.AuthorEmail),
	}
	info, resp, err := c.api.RepositoryFiles.CreateFile(projectID, path, opt, gl.WithContext(ctx), gl.WithRequestRetry(checkRetryCommit))
	err = checkFileCommit(resp, err, http.StatusCreated, info, path)
	if err != nil {
		return c.afterFailedWrite(ctx, explain(err, resp, fmt.Sprintf("create %s on branch %q", path, commit.Branch), fileTarget(projectID, path)),
			projectID, path, commit.Branch, content)
	}
	return c.GetRepositoryFile(ctx, projectID, path, commit.Branch)
}

// UpdateRepositoryFile replaces a file's content in one commit, sending lastCommitID: when the file
// changed after that commit, GitLab refuses and the error's Reason is ReasonFileChanged. It reads the
// file back for its new commit IDs.
func (c *Client) UpdateRepositoryFile(ctx context.Context, projectID int64, path string, content []byte, lastCommitID string, commit FileCommit) (*RepositoryFile, error) {
	opt := &gl.UpdateFileOptions{
		Branch:        gl.Ptr(commit.Branch),
		Encoding:      gl.Ptr("base64"),
		Content:       gl.Ptr(base64.StdEncoding.EncodeToString(content)),
		CommitMessage: gl.Ptr(commit.Message),
		AuthorName:    optionalString(commit.AuthorName),
		AuthorEmail:   optionalString(commit.AuthorEmail),
		LastCommitID:  optionalString(lastCommitID),
	}
	info, resp, err := c.api.RepositoryFiles.UpdateFile(projectID, path, opt, gl.WithContext(ctx), gl.WithRequestRetry(checkRetryCommit))
	err = checkFileCommit(resp, err, http.StatusOK, info, path)
	if err != nil {
		return c.afterFailedWrite(ctx, explain(err, resp, fmt.Sprintf("update %s on branch %q", path, commit.Branch), fileTarget(projectID, path)),
			projectID, path, commit.Branch, content)
	}
	return c.GetRepositoryFile(ctx, projectID, path, commit.Branch)
}

// DeleteRepositoryFile deletes a file in one commit. GitLab ignores last_commit_id on delete, so the
// caller compares before deleting. A file already gone is not an error.
func (c *Client) DeleteRepositoryFile(ctx context.Context, projectID int64, path string, commit FileCommit) error {
	opt := &gl.DeleteFileOptions{
		Branch:        gl.Ptr(commit.Branch),
		CommitMessage: gl.Ptr(commit.Message),
		AuthorName:    optionalString(commit.AuthorName),
		AuthorEmail:   optionalString(commit.AuthorEmail),
	}
	resp, err := c.api.RepositoryFiles.DeleteFile(projectID, path, opt, gl.WithContext(ctx), gl.WithRequestRetry(checkRetryCommit))
	if err = checkAnswer(resp, err, http.StatusNoContent); err == nil {
		return nil
	}
	explained := c.writeError(explain(err, resp, fmt.Sprintf("delete %s on branch %q", path, commit.Branch), fileTarget(projectID, path)), projectID, path, commit.Branch)
	if Message(explained) == msgFileMissing {
		return nil
	}
	if !outcomeUnknown(explained) {
		return explained
	}
	// The outcome is unknown (no answer, a 5xx, or an answer that is not GitLab's): the file is deleted
	// exactly when it is no longer there.
	if _, getErr := c.GetRepositoryFile(ctx, projectID, path, commit.Branch); IsNotFound(getErr) {
		return nil
	}
	return explained
}

// afterFailedWrite explains a failed create or update, and settles an unknown outcome by reading the
// file: holding exactly the content sent, it was written.
func (c *Client) afterFailedWrite(ctx context.Context, err error, projectID int64, path, branch string, content []byte) (*RepositoryFile, error) {
	err = c.writeError(err, projectID, path, branch)
	if !outcomeUnknown(err) {
		return nil, err
	}
	f, getErr := c.GetRepositoryFile(ctx, projectID, path, branch)
	if getErr == nil && bytes.Equal(f.Content, content) {
		return f, nil
	}
	var e *Error
	if errors.As(err, &e) {
		e.OutcomeUnknown = true
		if getErr != nil && !IsNotFound(getErr) {
			e.Detail += fmt.Sprintf(" Whether the commit was made is unknown: reading the file back failed too (%s).", errorDetail(getErr))
		}
	}
	return nil, err
}

// outcomeUnknown reports whether a commit request that failed may have made its commit all the same:
// no answer, a 5xx, or an answer that is not GitLab's (something on the way may have passed the request
// on), unless the run was interrupted.
func outcomeUnknown(err error) bool {
	if IsInterrupted(err) {
		return false
	}
	if AnswerOf(err) != nil {
		return true
	}
	status := StatusCode(err)
	return status == 0 || status >= http.StatusInternalServerError
}

// checkFileCommit checks the answer to a create (want 201) or update (want 200) of a file: GitLab
// answers {"file_path":…,"branch":…}, naming the file written.
func checkFileCommit(resp *gl.Response, err error, want int, info *gl.FileInfo, path string) error {
	if err = checkAnswer(resp, err, want); err != nil {
		return err
	}
	got := ""
	if info != nil {
		got = info.FilePath
	}
	if problem := namedObjectProblem(resp, "file", got, path); problem != "" {
		return wrongObject(resp, want, problem)
	}
	return nil
}

// writeError words GitLab's 400s and 403 for a file write.
func (c *Client) writeError(err error, projectID int64, path, branch string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Status == http.StatusBadRequest && e.GitLabMessage == msgFileExists:
		e.reason = ReasonFileExists
		e.Detail = fmt.Sprintf("Project %d already has a file %q on branch %q; it was not changed.", projectID, path, branch)
	case e.Status == http.StatusBadRequest && e.GitLabMessage == msgFileChanged:
		e.reason = ReasonFileChanged
		e.Detail = fmt.Sprintf("File %q on branch %q of project %d was changed by another commit after it was "+
			"last read (GitLab said: %q); nothing was written.", path, branch, projectID, e.GitLabMessage)
	case e.Status == http.StatusBadRequest && e.GitLabMessage == msgCannotPush:
		e.reason = ReasonBranchProtected
		e.Detail = fmt.Sprintf("The token's user may not push to branch %q of project %d: it is a protected "+
			"branch (GitLab said: %q). GitLab protects a project's default branch so that only Maintainers may "+
			"push to it, unless its protection (Settings > Repository > Protected branches) allows Developers. "+
			"Use a token of a user with the Maintainer role, or allow the user's role to push.", branch, projectID, e.GitLabMessage)
	case e.Status == http.StatusForbidden && !strings.Contains(e.GitLabMessage, "insufficient_scope"):
		e.Detail = fmt.Sprintf("The token's user may not commit to the repository of project %d (403 Forbidden). "+
			"Committing files needs at least the Developer role on the project, and on a protected branch the "+
			"role its protection allows to push (Maintainer by default for the default branch).", projectID)
	}
	return e
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
