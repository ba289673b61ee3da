package mockgitlab

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
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
		if err := s.setMember(id, segs[3], roleName); err != nil {
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
	}
	return nil
}
