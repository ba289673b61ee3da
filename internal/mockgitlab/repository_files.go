package mockgitlab

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// The Repository Files API (GitLab lib/api/files.rb, app/services/files/*, doc/api/repository_files.md):
//
//	GET|HEAD /projects/:id/repository/files/:file_path        file metadata and base64 content (ref required)
//	GET|HEAD /projects/:id/repository/files/:file_path/raw    raw content (ref defaults to HEAD)
//	POST     /projects/:id/repository/files/:file_path        create a file in one commit (201)
//	PUT      /projects/:id/repository/files/:file_path        update a file in one commit (200)
//	DELETE   /projects/:id/repository/files/:file_path        delete a file in one commit (204)
//
// :file_path is one URL segment ("/" sent as %2F). Reads need read_code (Reporter+, anyone on a public
// project), writes push_code (Developer+) and a branch the user may push to.

// GitLab's write errors (Files::BaseService and friends), rendered as {"message":"..."} with 400.
const (
	msgNotAllowedToPush   = "You are not allowed to push into this branch"
	msgNotOnBranch        = "You can only create or edit files when you are on a branch"
	msgFileChanged        = "You are attempting to update a file that has changed since you started editing it."
	msgFileExists         = "A file with this name already exists"
	msgFileMissing        = "A file with this name doesn't exist"
	msgDirectoryExists    = "A directory with this name already exists"
	msgInvalidFilePath    = "file_path should be a valid file path"
	msgBranchExistsFormat = "A branch called '%s' already exists. Switch to that branch in order to make changes"
)

// pathTraversalRegexp is Gitlab::PathTraversal's PATH_TRAVERSAL_REGEX: "." or ".." alone, a leading
// "../", a "/.." at the end, "/../" inside (with either slash), or a newline.
var pathTraversalRegexp = regexp.MustCompile(`(\A\.{1,2}\z|\A\.\.[/\\]|[/\\]\.\.\z|[/\\]\.\.[/\\]|\n)`)

// filePathParam decodes and validates the :file_path segment (lib/api/validations/validators/file_path.rb):
// no traversal, no double encoding, and no leading "/" except where allowed (the raw route).
func filePathParam(segment string, allowInitialSeparator bool) (string, bool) {
	decoded, err := url.PathUnescape(segment)
	if err != nil {
		return "", false
	}
	if again, err := url.PathUnescape(decoded); err != nil || again != decoded {
		return "", false
	}
	if pathTraversalRegexp.MatchString(decoded) {
		return "", false
	}
	if strings.HasPrefix(decoded, "/") {
		if !allowInitialSeparator {
			return "", false
		}
		decoded = strings.TrimLeft(decoded, "/")
	}
	return decoded, decoded != ""
}

// repositoryFileEndpoint dispatches the Repository Files routes.
func (s *Server) repositoryFileEndpoint(req *apiRequest) *response {
	if req.route.kind == routeFileRaw {
		return s.getFile(req, true)
	}
	switch req.method {
	case http.MethodGet:
		return s.getFile(req, false)
	case http.MethodPost, http.MethodPut, http.MethodDelete:
		return s.writeFile(req)
	}
	return errRouteNotFound()
}

// getFile serves GET and HEAD of a file, as JSON or raw.
func (s *Server) getFile(req *apiRequest, raw bool) *response {
	var errs []string
	filePath, ok := filePathParam(req.route.fileSeg, raw)
	if !ok {
		errs = append(errs, msgInvalidFilePath)
	}
	ref := "HEAD"
	v, sent := req.params.get("ref")
	switch {
	case raw && sent && !v.null && v.str != "":
		ref = v.str
	case raw:
	case !sent:
		errs = append(errs, "ref is missing")
	case v.null || strings.TrimSpace(v.str) == "":
		errs = append(errs, "ref is empty")
	default:
		ref = v.str
	}
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	if !s.st.canReadCode(req.user, p) {
		return errForbidden()
	}
	c := p.repo.resolveRef(ref)
	if c == nil {
		return messageError(http.StatusNotFound, "404 Commit Not Found")
	}
	b, ok := c.tree[filePath]
	if !ok {
		return messageError(http.StatusNotFound, "404 File Not Found")
	}
	last := p.repo.lastCommitFor(c, filePath)
	sum := sha256.Sum256(b.content)
	meta := fileJSON{
		FileName:        path.Base(filePath),
		FilePath:        filePath,
		Size:            int64(len(b.content)),
		Encoding:        "base64",
		ContentSHA256:   hex.EncodeToString(sum[:]),
		Ref:             ref,
		BlobID:          blobID(b.content),
		CommitID:        c.id,
		LastCommitID:    last.id,
		ExecuteFilemode: b.exec,
	}
	h := http.Header{}
	h.Set("X-Gitlab-Blob-Id", meta.BlobID)
	h.Set("X-Gitlab-Commit-Id", meta.CommitID)
	h.Set("X-Gitlab-Content-Sha256", meta.ContentSHA256)
	h.Set("X-Gitlab-Encoding", meta.Encoding)
	h.Set("X-Gitlab-File-Name", meta.FileName)
	h.Set("X-Gitlab-File-Path", meta.FilePath)
	h.Set("X-Gitlab-Last-Commit-Id", meta.LastCommitID)
	h.Set("X-Gitlab-Ref", meta.Ref)
	h.Set("X-Gitlab-Size", strconv.FormatInt(meta.Size, 10))
	h.Set("X-Gitlab-Execute-Filemode", strconv.FormatBool(meta.ExecuteFilemode))
	if raw {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Disposition", `inline; filename="`+meta.FileName+`"; filename*=UTF-8''`+url.PathEscape(meta.FileName))
		h.Set("Cache-Control", "max-age=0, private, must-revalidate, no-store, no-cache")
		h.Set("Expires", "Fri, 01 Jan 1990 00:00:00 GMT")
		return &response{status: http.StatusOK, header: h, body: append([]byte(nil), b.content...)}
	}
	meta.Content = base64.StdEncoding.EncodeToString(b.content)
	resp := jsonResponse(http.StatusOK, meta)
	for k, vs := range h {
		resp.header[k] = vs
	}
	return resp
}

// fileJSON is the GET file answer, keys in GitLab's order.
type fileJSON struct {
	FileName        string `json:"file_name"`
	FilePath        string `json:"file_path"`
	Size            int64  `json:"size"`
	Encoding        string `json:"encoding"`
	ContentSHA256   string `json:"content_sha256"`
	Ref             string `json:"ref"`
	BlobID          string `json:"blob_id"`
	CommitID        string `json:"commit_id"`
	LastCommitID    string `json:"last_commit_id"`
	ExecuteFilemode bool   `json:"execute_filemode"`
	Content         string `json:"content"`
}

// writeParams are the validated parameters of POST, PUT and DELETE.
type writeParams struct {
	filePath      string
	branch        string
	startBranch   string
	commitMessage string
	authorName    *string
	authorEmail   *string
	content       []byte
	execute       *bool
	lastCommitID  string
}

// readWriteParams validates the write parameters in Grape's order, rendering errors in the shape of the
// GitLab played (the "400 Bad request - … is required" form from 18.7 on).
func (s *Server) readWriteParams(req *apiRequest) (writeParams, *response) {
	newShapes := s.versionAtLeast([2]int{18, 7})
	var errs []string
	var out writeParams
	filePath, ok := filePathParam(req.route.fileSeg, false)
	if !ok {
		return out, paramErrors([]string{msgInvalidFilePath})
	}
	out.filePath = filePath
	required := func(name string) string {
		v, sent := req.params.get(name)
		switch {
		case !sent && newShapes:
			errs = append(errs, name+" is required")
		case !sent:
			errs = append(errs, name+" is missing")
		case v.composite:
			errs = append(errs, name+" is invalid")
		case (v.null || strings.TrimSpace(v.str) == "") && newShapes:
			errs = append(errs, name+" is required")
		case v.null || strings.TrimSpace(v.str) == "":
			errs = append(errs, name+" is empty")
		}
		return v.str
	}
	optional := func(name string) *string {
		v, sent := req.params.get(name)
		if !sent || v.null || v.composite {
			return nil
		}
		str := v.str
		return &str
	}
	out.branch = required("branch")
	out.commitMessage = required("commit_message")
	if sb := optional("start_branch"); sb != nil && *sb != "" {
		out.startBranch = *sb
	}
	out.authorName, out.authorEmail = optional("author_name"), optional("author_email")
	if req.method != http.MethodDelete {
		content, sent := req.params.get("content")
		switch {
		case !sent && newShapes:
			errs = append(errs, "content is required")
		case !sent:
			errs = append(errs, "content is missing")
		case content.composite:
			errs = append(errs, "content is invalid")
		}
		encoding := "text"
		if e := optional("encoding"); e != nil {
			encoding = *e
		}
		switch encoding {
		case "text":
			out.content = []byte(content.str)
		case "base64":
			out.content = lenientBase64(content.str)
		default:
			if newShapes {
				errs = append(errs, "encoding must be text or base64")
			} else {
				errs = append(errs, "encoding does not have a valid value")
			}
		}
		if v, sent := req.params.get("execute_filemode"); sent && !v.null {
			switch strings.ToLower(v.str) {
			case "true", "1":
				t := true
				out.execute = &t
			case "false", "0":
				f := false
				out.execute = &f
			default:
				if newShapes {
					errs = append(errs, "execute_filemode must be a boolean")
				} else {
					errs = append(errs, "execute_filemode is invalid")
				}
			}
		}
		if req.method == http.MethodPut {
			if l := optional("last_commit_id"); l != nil {
				out.lastCommitID = *l
			}
		}
	}
	if len(errs) > 0 {
		if newShapes {
			return out, messageError(http.StatusBadRequest, "400 Bad request - "+strings.Join(errs, ", "))
		}
		return out, paramErrors(errs)
	}
	return out, nil
}

// lenientBase64 decodes as Ruby's Base64.decode64: characters outside the alphabet are skipped and
// missing padding is tolerated.
func lenientBase64(s string) []byte {
	var clean strings.Builder
	for _, r := range s {
		if (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '+' || r == '/' {
			clean.WriteRune(r)
		}
	}
	str := clean.String()
	if len(str)%4 == 1 {
		str = str[:len(str)-1] // a lone trailing sextet carries no whole byte
	}
	out, err := base64.RawStdEncoding.DecodeString(str)
	if err != nil {
		return nil
	}
	return out
}

// writeFile serves POST, PUT and DELETE: one commit each, after GitLab's checks in GitLab's order.
func (s *Server) writeFile(req *apiRequest) *response {
	wp, errResp := s.readWriteParams(req)
	if errResp != nil {
		return errResp
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	level := s.st.accessLevel(req.user, p)
	if level < accessDeveloper {
		return errForbidden()
	}
	r := p.repo
	if !req.user.admin && level < r.pushLevel(wp.branch) || r.pushLevel(wp.branch) == pushNoOne {
		return messageError(http.StatusBadRequest, msgNotAllowedToPush)
	}
	start := wp.startBranch
	if start == "" {
		start = wp.branch
	}
	base := r.tip(start)
	parent := ""
	switch {
	case base != nil:
		parent = base.id
	case r.isEmpty():
		base = &gitCommit{tree: map[string]blob{}} // the first commit creates the branch
	default:
		return messageError(http.StatusBadRequest, msgNotOnBranch)
	}
	if start != wp.branch && r.tip(wp.branch) != nil && !r.isEmpty() {
		return messageError(http.StatusBadRequest, strings.Replace(msgBranchExistsFormat, "%s", wp.branch, 1))
	}
	current, exists := base.tree[wp.filePath]
	if wp.lastCommitID != "" && exists {
		// Files::BaseService#file_has_changed?: the file's last commit on the branch against its last
		// commit as of the commit the caller saw; stale only when both exist and differ.
		x := r.lastCommitFor(base, wp.filePath)
		y := r.lastCommitFor(r.commits[wp.lastCommitID], wp.filePath)
		if x != nil && y != nil && x.id != y.id {
			return messageError(http.StatusBadRequest, msgFileChanged)
		}
	}
	var next *blob
	switch req.method {
	case http.MethodPost:
		if exists {
			return messageError(http.StatusBadRequest, msgFileExists)
		}
		if isDirectory(base, wp.filePath) {
			return messageError(http.StatusBadRequest, msgDirectoryExists)
		}
		next = &blob{content: wp.content, exec: wp.execute != nil && *wp.execute}
	case http.MethodPut:
		if !exists {
			return messageError(http.StatusBadRequest, msgFileMissing)
		}
		next = &blob{content: wp.content, exec: current.exec}
		if wp.execute != nil {
			next.exec = *wp.execute
		}
	case http.MethodDelete:
		if !exists {
			return messageError(http.StatusBadRequest, msgFileMissing)
		}
	}
	authorName, authorEmail := req.user.name, commitEmail(req.user)
	if wp.authorName != nil && *wp.authorName != "" {
		authorName = *wp.authorName
	}
	if wp.authorEmail != nil && *wp.authorEmail != "" {
		authorEmail = *wp.authorEmail
	}
	r.commit(wp.branch, parent, withFile(base, wp.filePath, next), wp.commitMessage, authorName, authorEmail, s.timestamp(), req.user.id)
	written := struct {
		FilePath string `json:"file_path"`
		Branch   string `json:"branch"`
	}{wp.filePath, wp.branch}
	switch req.method {
	case http.MethodPost:
		return jsonResponse(http.StatusCreated, written)
	case http.MethodPut:
		return jsonResponse(http.StatusOK, written)
	}
	return noContent()
}
