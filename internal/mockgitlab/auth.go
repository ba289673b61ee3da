package mockgitlab

import (
	"net/http"
	"strings"
)

// credential extracts the access token in GitLab's order: the private_token parameter, the
// PRIVATE-TOKEN header, then OAuth-style Authorization: Bearer and the access_token parameter.
func credential(r *http.Request, p params) string {
	if v, ok := p.get("private_token"); ok && v.str != "" {
		return v.str
	}
	if h := r.Header.Get("Private-Token"); h != "" {
		return h
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, found := strings.Cut(strings.TrimSpace(auth), " ")
		if found && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) != "" {
			return strings.TrimSpace(tok)
		}
	}
	if v, ok := p.get("access_token"); ok && v.str != "" {
		return v.str
	}
	return ""
}

// authenticate returns the user owning the request's token, or nil when the token is missing or
// unknown (both answer 401 {"message":"401 Unauthorized"}).
func (s *Server) authenticate(r *http.Request, p params) *user {
	tok := credential(r, p)
	if tok == "" {
		return nil
	}
	return s.st.userByToken[tok]
}

// userJSON is the GET /user answer.
type userJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	State    string `json:"state"`
	IsAdmin  bool   `json:"is_admin"`
}

// getCurrentUser serves GET /user.
func (s *Server) getCurrentUser(req *apiRequest) *response {
	u := req.user
	return jsonResponse(http.StatusOK, userJSON{ID: u.id, Username: u.username, Name: u.username, State: "active", IsAdmin: u.admin})
}
