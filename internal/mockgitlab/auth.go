package mockgitlab

import (
	"net/http"
	"slices"
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

// GitLab's API-guard answers for tokens it knows but does not accept (lib/api/api_guard.rb, through
// rack-oauth2): 401 invalid_token for an expired or revoked token, 403 insufficient_scope for a token
// whose scopes do not allow the request.
const (
	msgTokenExpired      = "Token is expired. You can either do re-authorization or token refresh."
	msgTokenRevoked      = "Token was revoked. You have to re-authorize from the user."
	msgInsufficientScope = "The request requires higher privileges than provided by the access token."
)

// checkTokenAccess applies the state and scopes of the request's token, once its user is known: an
// expired or revoked token answers 401 invalid_token, a read_api token anything but GET (or HEAD) 403
// insufficient_scope. Tokens seeded in a user's Tokens have the api scope and never expire.
//
// Tokens created through POST /user/personal_access_tokens are checked the same way, their expiry by the
// server clock. DELETE /personal_access_tokens/self accepts a token of any scope
// (allow_access_with_scope(all_available_scopes) in lib/api/personal_access_tokens/self_revocation.rb).
func (s *Server) checkTokenAccess(req *apiRequest) *response {
	secret := credential(req.r, req.params)
	t, limited := s.st.tokenLimits[secret]
	if pt := s.st.pats.bySecret[secret]; pt != nil {
		t, limited = SeedAccessToken{Token: secret, Scopes: pt.scopes, State: pt.state(s.timestamp())}, true
	}
	if !limited {
		return nil
	}
	switch t.State {
	case accessTokenExpired, accessTokenRevoked:
		desc := msgTokenExpired
		if t.State == accessTokenRevoked {
			desc = msgTokenRevoked
		}
		resp := jsonResponse(http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
		resp.header.Set("WWW-Authenticate", `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="`+desc+`"`)
		return resp
	}
	if req.route.kind == routePATSelf || len(t.Scopes) == 0 || slices.Contains(t.Scopes, "api") {
		return nil
	}
	if req.method == http.MethodGet && slices.Contains(t.Scopes, "read_api") {
		return nil
	}
	if req.method == http.MethodGet && req.route != nil && (req.route.kind == routeMetadata || req.route.kind == routeVersion) &&
		slices.ContainsFunc(t.Scopes, func(scope string) bool { return slices.Contains(metadataScopes, scope) }) {
		return nil
	}
	if req.method == http.MethodGet && req.route != nil && req.route.kind == routeUser && slices.Contains(t.Scopes, "read_user") {
		return nil
	}
	// scope lists every scope registered for the endpoint, joined with a space (lib/api/api_guard.rb
	// scopes_registered_for_endpoint): API::API's api and read_api (lib/api/api.rb
	// allow_access_with_scope), read_api even where it grants nothing, then the endpoint's own:
	// read_user on /user (lib/api/users.rb), metadataScopes' others on /metadata and /version.
	scopes := []string{"api", "read_api"}
	switch {
	case req.route != nil && req.route.kind == routeUser:
		scopes = append(scopes, "read_user")
	case req.route != nil && (req.route.kind == routeMetadata || req.route.kind == routeVersion):
		for _, scope := range metadataScopes {
			if !slices.Contains(scopes, scope) {
				scopes = append(scopes, scope)
			}
		}
	}
	return jsonResponse(http.StatusForbidden, struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Scope            string `json:"scope"`
	}{"insufficient_scope", msgInsufficientScope, strings.Join(scopes, " ")})
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
	return jsonResponse(http.StatusOK, userJSON{ID: u.id, Username: u.username, Name: u.name, State: "active", IsAdmin: u.admin})
}
