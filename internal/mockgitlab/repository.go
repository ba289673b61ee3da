package mockgitlab

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // git's object names are SHA-1
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// The mock's git repositories: one per project, with branches, commits and file trees, enough to serve
// the Repository Files API (doc/api/repository_files.md) as GitLab does.
//
// Every seeded project starts with one commit on its default branch `main` (a README.md), and `main` is
// protected the way GitLab protects a default branch with the instance's default setting ("fully
// protected", app/models/protected_branch.rb): Maintainers may push, Developers may not.

// defaultBranchName is Project#default_branch_or_main for a project without another default.
const defaultBranchName = "main"

// pushNoOne is the push access level "No one" of a protected branch.
const pushNoOne = 1 << 30

// blob is a file in a commit's tree.
type blob struct {
	content []byte
	exec    bool // mode 100755
}

// sameAs reports whether two blobs are the same object and mode.
func (b blob) sameAs(o blob) bool {
	return b.exec == o.exec && bytes.Equal(b.content, o.content)
}

// gitCommit is one commit: a full snapshot of the tree (path -> blob) and its parent.
type gitCommit struct {
	id          string
	parent      string // "" for the root commit
	tree        map[string]blob
	message     string
	authorName  string
	authorEmail string
	authoredAt  time.Time
	userID      int64 // the user who made it (0 for seeded commits)
}

// repository is a project's repository.
type repository struct {
	defaultBranch string
	branches      map[string]string // branch name -> tip commit id
	commits       map[string]*gitCommit
	// protected maps a protected branch to the lowest access level that may push to it (pushNoOne for
	// "No one"). Branches not in the map are unprotected: Developers and above may push.
	protected map[string]int
	seq       int // commits made, to keep commit ids unique
}

// newRepository builds a repository, empty or with an initial commit on main, protected as GitLab's
// default branch protection does.
func newRepository(p *project, at time.Time, empty bool) *repository {
	r := &repository{
		defaultBranch: defaultBranchName,
		branches:      map[string]string{},
		commits:       map[string]*gitCommit{},
		protected:     map[string]int{defaultBranchName: accessMaintainer},
	}
	if empty {
		return r
	}
	readme := blob{content: []byte("# " + p.name + "\n")}
	r.commit(defaultBranchName, "", map[string]blob{"README.md": readme}, "Initial commit", "Administrator", "admin@example.com", at, 0)
	return r
}

// blobID is git's object name of a blob: SHA-1 of "blob <size>\x00<content>".
func blobID(content []byte) string {
	h := sha1.New() //nolint:gosec // git's object names are SHA-1
	_, _ = fmt.Fprintf(h, "blob %d\x00", len(content))
	_, _ = h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// commit records a commit with the given tree on branch, whose parent is parent ("" for a root), and
// moves the branch to it.
func (r *repository) commit(branch, parent string, tree map[string]blob, message, authorName, authorEmail string, at time.Time, userID int64) *gitCommit {
	r.seq++
	h := sha1.New() //nolint:gosec // git's object names are SHA-1
	_, _ = fmt.Fprintf(h, "commit %d\nparent %s\nauthor %s <%s> %d\n\n%s", r.seq, parent, authorName, authorEmail, at.Unix(), message)
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		_, _ = fmt.Fprintf(h, "\n%s %s", p, blobID(tree[p].content))
	}
	c := &gitCommit{
		id: hex.EncodeToString(h.Sum(nil)), parent: parent, tree: tree, message: message,
		authorName: authorName, authorEmail: authorEmail, authoredAt: at, userID: userID,
	}
	r.commits[c.id] = c
	r.branches[branch] = c.id
	return c
}

// resolveRef finds the commit a ref names: "HEAD" (the default branch), a branch, or a full or
// abbreviated (7+ hex digits) commit id. Tags do not exist in the mock.
func (r *repository) resolveRef(ref string) *gitCommit {
	if ref == "HEAD" {
		ref = r.defaultBranch
	}
	if id, ok := r.branches[ref]; ok {
		return r.commits[id]
	}
	if c := r.commits[ref]; c != nil {
		return c
	}
	if len(ref) >= 7 && len(ref) < 40 && strings.Trim(ref, "0123456789abcdef") == "" {
		var found *gitCommit
		for id, c := range r.commits {
			if strings.HasPrefix(id, ref) {
				if found != nil {
					return nil // ambiguous
				}
				found = c
			}
		}
		return found
	}
	return nil
}

// tip returns the commit a branch points at, or nil.
func (r *repository) tip(branch string) *gitCommit {
	id, ok := r.branches[branch]
	if !ok {
		return nil
	}
	return r.commits[id]
}

// lastCommitFor is the newest commit reachable from c that changed path (added it or changed its
// blob or mode): git log -1 -- path, as long as the path exists at c. It returns nil when the path does
// not exist at c.
func (r *repository) lastCommitFor(c *gitCommit, path string) *gitCommit {
	if c == nil {
		return nil
	}
	b, ok := c.tree[path]
	if !ok {
		return nil
	}
	for c.parent != "" {
		parent := r.commits[c.parent]
		pb, ok := parent.tree[path]
		if !ok || !pb.sameAs(b) {
			break
		}
		c = parent
	}
	return c
}

// isDirectory reports whether path is a directory in c's tree.
func isDirectory(c *gitCommit, path string) bool {
	prefix := path + "/"
	for p := range c.tree {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// isEmpty reports whether the repository has no commits yet.
func (r *repository) isEmpty() bool {
	return len(r.branches) == 0
}

// pushLevel is the lowest access level that may push to branch. In an empty repository under default
// branch protection every ref counts as protected: Maintainers push the first commit
// (ProtectedBranch.protected? for an empty repository).
func (r *repository) pushLevel(branch string) int {
	if r.isEmpty() {
		return max(accessMaintainer, r.protected[r.defaultBranch])
	}
	if level, ok := r.protected[branch]; ok {
		return level
	}
	return accessDeveloper
}

// withFile returns a copy of c's tree with path set to b, or removed when b is nil.
func withFile(c *gitCommit, path string, b *blob) map[string]blob {
	tree := maps.Clone(c.tree)
	if b == nil {
		delete(tree, path)
	} else {
		tree[path] = *b
	}
	return tree
}

// commitEmail is the commit email of a mock user (GitLab's default is the user's primary email).
func commitEmail(u *user) string {
	return u.username + "@example.com"
}

// fileAt returns the content of a file at the tip of the project's default branch. It is the read of
// the repository that other parts of the mock (such as an agent server reading an agent's
// configuration) build on; the caller holds the server lock.
func (st *store) fileAt(projectID int64, path string) ([]byte, bool) {
	p := st.projects[projectID]
	if p == nil || p.repo == nil {
		return nil, false
	}
	tip := p.repo.tip(p.repo.defaultBranch)
	if tip == nil {
		return nil, false
	}
	b, ok := tip.tree[path]
	if !ok {
		return nil, false
	}
	return bytes.Clone(b.content), true
}

// CommitInfo describes a commit of a project's repository for assertions in tests.
type CommitInfo struct {
	ID          string    `json:"id"`
	Message     string    `json:"message"`
	AuthorName  string    `json:"author_name"`
	AuthorEmail string    `json:"author_email"`
	AuthoredAt  time.Time `json:"authored_at"`
	// UserID is the user who made the commit through the API or out of band; 0 for seeded commits.
	UserID int64 `json:"user_id"`
}

func commitInfo(c *gitCommit) CommitInfo {
	return CommitInfo{ID: c.id, Message: c.message, AuthorName: c.authorName, AuthorEmail: c.authorEmail,
		AuthoredAt: c.authoredAt, UserID: c.userID}
}

// RepositoryFile returns the content of a file at the tip of the project's default branch, as GitLab's
// agent server reads an agent's configuration file. The second result is false when the project or
// the file does not exist.
func (s *Server) RepositoryFile(projectID int64, path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.fileAt(projectID, path)
}

// FileLastCommit returns the last commit on the project's default branch that changed the file (its
// last_commit_id); false when the file does not exist.
func (s *Server) FileLastCommit(projectID int64, path string) (CommitInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return CommitInfo{}, false
	}
	c := p.repo.lastCommitFor(p.repo.tip(p.repo.defaultBranch), path)
	if c == nil {
		return CommitInfo{}, false
	}
	return commitInfo(c), true
}

// Commits returns the commits of the project's default branch, newest first.
func (s *Server) Commits(projectID int64) []CommitInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return nil
	}
	var out []CommitInfo
	for c := p.repo.tip(p.repo.defaultBranch); c != nil; c = p.repo.commits[c.parent] {
		out = append(out, commitInfo(c))
		if c.parent == "" {
			break
		}
	}
	return out
}

// PushFile writes a file on the project's default branch out of band, as the user would by pushing a
// commit (branch protection is not applied: the push is assumed allowed). An empty message gets a
// default one. It returns the new commit.
func (s *Server) PushFile(projectID int64, path string, content []byte, username, message string) (CommitInfo, error) {
	return s.push(projectID, path, &blob{content: bytes.Clone(content)}, username, message)
}

// PushFileDeletion deletes a file on the project's default branch out of band, as the user would by
// pushing a commit. It fails with ErrNotFound when the file does not exist.
func (s *Server) PushFileDeletion(projectID int64, path, username, message string) (CommitInfo, error) {
	return s.push(projectID, path, nil, username, message)
}

func (s *Server) push(projectID int64, path string, b *blob, username, message string) (CommitInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return CommitInfo{}, errorf(ErrNotFound, "project %d", projectID)
	}
	u := s.st.usersByName[strings.ToLower(username)]
	if u == nil {
		return CommitInfo{}, errorf(ErrNotFound, "user %q", username)
	}
	if path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
		return CommitInfo{}, errorf(nil, "invalid file path %q", path)
	}
	r := p.repo
	tip := r.tip(r.defaultBranch)
	parent := ""
	if tip == nil {
		tip = &gitCommit{tree: map[string]blob{}} // the first push of an empty repository
	} else {
		parent = tip.id
	}
	if b == nil {
		if _, ok := tip.tree[path]; !ok {
			return CommitInfo{}, errorf(ErrNotFound, "file %q on %s of project %d", path, r.defaultBranch, projectID)
		}
	} else if isDirectory(tip, path) {
		return CommitInfo{}, errorf(nil, "%q is a directory", path)
	}
	if message == "" {
		verb := "Update"
		if b == nil {
			verb = "Delete"
		}
		message = verb + " " + path
	}
	c := r.commit(r.defaultBranch, parent, withFile(tip, path, b), message, u.name, commitEmail(u), s.timestamp(), u.id)
	return commitInfo(c), nil
}

// SetBranchProtection protects a branch of the project, allowing pushes from pushRole ("developer",
// "maintainer" or "no_one") and above, or unprotects it when pushRole is "".
func (s *Server) SetBranchProtection(projectID int64, branch, pushRole string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return errorf(ErrNotFound, "project %d", projectID)
	}
	if branch == "" {
		return errorf(nil, "branch is required")
	}
	switch pushRole {
	case "":
		delete(p.repo.protected, branch)
	case "developer":
		p.repo.protected[branch] = accessDeveloper
	case "maintainer":
		p.repo.protected[branch] = accessMaintainer
	case "no_one":
		p.repo.protected[branch] = pushNoOne
	default:
		return errorf(nil, "unknown push access %q (want developer, maintainer, no_one, or \"\" to unprotect)", pushRole)
	}
	return nil
}
