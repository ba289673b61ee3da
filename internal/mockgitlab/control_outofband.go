package mockgitlab

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// serveOutOfBand handles the control endpoints that change projects, members and URL configurations
// behind the API's back. It returns nil for paths it does not know.
func (s *Server) serveOutOfBand(r *http.Request, segs []string) *response {
	m := r.Method
	switch {
	case len(segs) == 2 && segs[0] == "url_configurations":
		if m != http.MethodDelete {
			return controlMethodNotAllowed()
		}
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "URL configuration id must be an integer")
		}
		if err := s.deleteURLConfigurationByID(id); err != nil {
			return controlFailure(err)
		}
		return noContent()
	case len(segs) == 4 && segs[0] == "projects" && segs[2] == "members" && segs[3] != "":
		if m != http.MethodPut {
			return controlMethodNotAllowed()
		}
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "project id must be an integer")
		}
		var body struct {
			Role json.RawMessage `json:"role"`
		}
		if err := decodeControlBody(r, &body, true); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		var role *string
		switch {
		case len(body.Role) == 0:
			return controlError(http.StatusBadRequest, `role is required: guest, reporter, developer, maintainer, owner, or "" or null to remove the membership`)
		case !bytes.Equal(body.Role, []byte("null")):
			if err := json.Unmarshal(body.Role, &role); err != nil {
				return controlError(http.StatusBadRequest, "role must be a string or null")
			}
			if *role == "" {
				role = nil
			}
		}
		roleName := ""
		if role != nil {
			roleName = *role
		}
		if err := s.SetMember(id, segs[3], roleName); err != nil {
			return controlFailure(err)
		}
		return jsonResponse(http.StatusOK, map[string]any{"project_id": id, "username": segs[3], "role": role})
	case len(segs) == 3 && segs[0] == "projects" && segs[2] == "rename":
		if m != http.MethodPost {
			return controlMethodNotAllowed()
		}
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "project id must be an integer")
		}
		var body struct {
			PathWithNamespace string `json:"path_with_namespace"`
		}
		if err := decodeControlBody(r, &body, true); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		if err := s.RenameProject(id, body.PathWithNamespace); err != nil {
			return controlFailure(err)
		}
		return jsonResponse(http.StatusOK, map[string]any{"id": id, "path_with_namespace": body.PathWithNamespace})
	case len(segs) >= 4 && segs[0] == "projects" && segs[2] == "files":
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "project id must be an integer")
		}
		return s.controlFile(r, id, strings.Join(segs[3:], "/"))
	case len(segs) >= 4 && segs[0] == "projects" && segs[2] == "protected_branches":
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return controlError(http.StatusBadRequest, "project id must be an integer")
		}
		branch := strings.Join(segs[3:], "/")
		var push string
		switch m {
		case http.MethodPut:
			var body struct {
				PushAccess string `json:"push_access"`
			}
			if err := decodeControlBody(r, &body, true); err != nil {
				return controlError(http.StatusBadRequest, err.Error())
			}
			if body.PushAccess == "" {
				return controlError(http.StatusBadRequest, "push_access is required: developer, maintainer or no_one")
			}
			push = body.PushAccess
		case http.MethodDelete:
		default:
			return controlMethodNotAllowed()
		}
		if err := s.SetBranchProtection(id, branch, push); err != nil {
			return controlFailure(err)
		}
		if push == "" {
			return noContent()
		}
		return jsonResponse(http.StatusOK, map[string]any{"project_id": id, "branch": branch, "push_access": push})
	}
	return nil
}

// controlFile reads, writes or deletes a file on a project's default branch out of band:
//
//	GET    /-/mock/projects/{id}/files/{path}  {"file_path","content","last_commit_id"}
//	PUT    /-/mock/projects/{id}/files/{path}  {"content":"…","username":"developer","commit_message":"…"}
//	DELETE /-/mock/projects/{id}/files/{path}  optional {"username":"…","commit_message":"…"}
//
// Writes are commits pushed by username (default root), as if with git push; they answer the commit.
func (s *Server) controlFile(r *http.Request, projectID int64, path string) *response {
	var body struct {
		Content       *string `json:"content"`
		Username      string  `json:"username"`
		CommitMessage string  `json:"commit_message"`
	}
	switch r.Method {
	case http.MethodGet:
		content, ok := s.RepositoryFile(projectID, path)
		if !ok {
			return controlError(http.StatusNotFound, "no file "+strconv.Quote(path)+" on the default branch of project "+strconv.FormatInt(projectID, 10))
		}
		last, _ := s.FileLastCommit(projectID, path)
		return jsonResponse(http.StatusOK, map[string]string{"file_path": path, "content": string(content), "last_commit_id": last.ID})
	case http.MethodPut, http.MethodDelete:
		if err := decodeControlBody(r, &body, r.Method == http.MethodPut); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
	default:
		return controlMethodNotAllowed()
	}
	if body.Username == "" {
		body.Username = "root"
	}
	var c CommitInfo
	var err error
	if r.Method == http.MethodPut {
		if body.Content == nil {
			return controlError(http.StatusBadRequest, "content is required")
		}
		c, err = s.PushFile(projectID, path, []byte(*body.Content), body.Username, body.CommitMessage)
	} else {
		c, err = s.PushFileDeletion(projectID, path, body.Username, body.CommitMessage)
	}
	if err != nil {
		return controlFailure(err)
	}
	return jsonResponse(http.StatusOK, c)
}
