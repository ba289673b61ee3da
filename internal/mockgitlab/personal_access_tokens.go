package mockgitlab

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Personal access tokens for the Kubernetes API proxy, as GitLab serves them:
//
//   - POST /user/personal_access_tokens (GitLab 16.5 and later; lib/api/users.rb, resource :user,
//     resource :personal_access_tokens) creates a token for the authenticated user, whose credential needs
//     the api scope. The only scope it grants is k8s_proxy (`values: ['k8s_proxy']`); expires_at defaults to
//     tomorrow (`1.day.from_now.to_date`), and a token stops working at 00:00 UTC on its expires_at. The
//     answer (Entities::PersonalAccessTokenWithToken) is the only one that carries the token.
//   - DELETE /personal_access_tokens/self (lib/api/personal_access_tokens/self_revocation.rb) revokes the
//     token the request authenticates with, whatever its scopes: 204. A revoked or expired token fails
//     authentication first (401 invalid_token).
//
// Errors (app/services/personal_access_tokens/create_service.rb, the PersonalAccessToken model): Grape's
// 400s for missing or invalid parameters; 422 {"message":"Not permitted to create"} when the user may not
// create personal access tokens (SeedSettings.PersonalAccessTokensRestricted); 422 {"message":"Expiration
// date must be before YYYY-MM-DD"} beyond the instance's maximum lifetime (365 days by default).

// Versions and limits of personal access tokens.
const (
	scopeK8sProxy       = "k8s_proxy"
	patMaxLifetimeDays  = 365
	patPrefix           = "glpat-"
	msgNotPermitted     = "Not permitted to create"
	msgScopesBlank      = "Scopes can't be blank"
	patExpiresAtLayout  = "2006-01-02"
	msgExpiryAfterLimit = "Expiration date must be before %s"
)

// userPATsSince is GitLab 16.5, which brought POST /user/personal_access_tokens.
var userPATsSince = [2]int{16, 5}

// personalToken is a personal access token created through the API.
type personalToken struct {
	id          int64
	userID      int64
	name        string
	description *string
	scopes      []string
	secret      string
	createdAt   time.Time
	expiresAt   time.Time // 00:00 UTC of the expires_at date
	revoked     bool
}

// state is active, expired or revoked at the time now.
func (t *personalToken) state(now time.Time) string {
	switch {
	case t.revoked:
		return accessTokenRevoked
	case !now.Before(t.expiresAt):
		return accessTokenExpired
	}
	return accessTokenActive
}

// personalTokens are the personal access tokens created through the API, by id and by secret.
type personalTokens struct {
	byID     map[int64]*personalToken
	bySecret map[string]*personalToken
	lastID   int64
}

func newPersonalTokens() personalTokens {
	return personalTokens{byID: map[int64]*personalToken{}, bySecret: map[string]*personalToken{}}
}

// newPersonalTokenSecret returns "glpat-" followed by 20 URL-safe random characters, as GitLab's
// personal access tokens look (treat them as opaque: the length varies by version).
func newPersonalTokenSecret() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return patPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// PersonalAccessTokenInfo describes a personal access token created through the API, for assertions in
// tests.
type PersonalAccessTokenInfo struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	Token     string    `json:"token,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt string    `json:"expires_at"` // YYYY-MM-DD
	// State is "active", "expired" (by the server clock) or "revoked".
	State string `json:"state"`
}

// patJSON is Entities::PersonalAccessTokenWithToken, keys in GitLab's order.
type patJSON struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Revoked     bool     `json:"revoked"`
	CreatedAt   string   `json:"created_at"`
	Description *string  `json:"description"`
	Scopes      []string `json:"scopes"`
	UserID      int64    `json:"user_id"`
	LastUsedAt  *string  `json:"last_used_at"`
	Active      bool     `json:"active"`
	ExpiresAt   string   `json:"expires_at"`
	Token       string   `json:"token"`
}

// createPersonalAccessTokenEndpoint serves POST /user/personal_access_tokens.
func (s *Server) createPersonalAccessTokenEndpoint(req *apiRequest) *response {
	var errs []string
	name := req.params.requiredString("name", &errs)
	scopes := patScopes(req.params, &errs)
	description := req.params.optionalString("description", &errs)
	now := s.timestamp()
	expiresAt := now.Truncate(24*time.Hour).AddDate(0, 0, 1) // tomorrow, 00:00 UTC
	if v, ok := req.params.get("expires_at"); ok && !v.null {
		at, err := time.Parse(patExpiresAtLayout, strings.TrimSpace(v.str))
		if v.composite || err != nil {
			errs = append(errs, "expires_at is invalid")
		}
		expiresAt = at
	}
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	if s.settings.PersonalAccessTokensRestricted {
		return messageError(http.StatusUnprocessableEntity, msgNotPermitted)
	}
	if len(scopes) == 0 {
		return messageError(http.StatusUnprocessableEntity, msgScopesBlank)
	}
	if limit := now.Truncate(24*time.Hour).AddDate(0, 0, patMaxLifetimeDays); expiresAt.After(limit) {
		return messageError(http.StatusUnprocessableEntity, fmt.Sprintf(msgExpiryAfterLimit, limit.Format(patExpiresAtLayout)))
	}
	secret, err := newPersonalTokenSecret()
	if err != nil {
		return messageError(http.StatusInternalServerError, "500 Internal Server Error")
	}
	st := s.st
	st.pats.lastID++
	t := &personalToken{
		id:          st.pats.lastID,
		userID:      req.user.id,
		name:        name,
		description: description,
		scopes:      scopes,
		secret:      secret,
		createdAt:   now,
		expiresAt:   expiresAt,
	}
	st.pats.byID[t.id] = t
	st.pats.bySecret[secret] = t
	st.userByToken[secret] = req.user
	out := renderPersonalToken(t, now)
	out.Token = secret
	return jsonResponse(http.StatusCreated, out)
}

// patScopes validates `requires :scopes, type: Array[String], coerce_with: CommaSeparatedToArray.coerce,
// values: ['k8s_proxy']`: a JSON array or a comma-separated string.
func patScopes(p params, errs *[]string) []string {
	v, ok := p.get("scopes")
	if !ok {
		*errs = append(*errs, "scopes is missing")
		return nil
	}
	var scopes []string
	switch {
	case v.items != nil:
		scopes = v.items
	case v.composite:
		*errs = append(*errs, "scopes is invalid")
		return nil
	case !v.null:
		for _, scope := range strings.Split(v.str, ",") {
			if scope = strings.TrimSpace(scope); scope != "" {
				scopes = append(scopes, scope)
			}
		}
	}
	for _, scope := range scopes {
		if scope != scopeK8sProxy {
			*errs = append(*errs, "scopes does not have a valid value")
			return nil
		}
	}
	return scopes
}

// renderPersonalToken builds the token's JSON without the secret.
func renderPersonalToken(t *personalToken, now time.Time) patJSON {
	return patJSON{
		ID:          t.id,
		Name:        t.name,
		Revoked:     t.revoked,
		CreatedAt:   formatTime(t.createdAt),
		Description: t.description,
		Scopes:      append([]string(nil), t.scopes...),
		UserID:      t.userID,
		Active:      t.state(now) == accessTokenActive,
		ExpiresAt:   t.expiresAt.Format(patExpiresAtLayout),
	}
}

// revokeOwnTokenEndpoint serves DELETE /personal_access_tokens/self: the request's own token is revoked.
// Authentication has already refused a revoked or expired token. A seeded token is revoked too, keeping
// its scopes.
func (s *Server) revokeOwnTokenEndpoint(req *apiRequest) *response {
	secret := credential(req.r, req.params)
	if t := s.st.pats.bySecret[secret]; t != nil {
		t.revoked = true
		return noContent()
	}
	limits := s.st.tokenLimits[secret]
	limits.Token, limits.State = secret, accessTokenRevoked
	s.st.tokenLimits[secret] = limits
	return noContent()
}

// personalTokenInfo converts a token for the Go API, secret included.
func personalTokenInfo(t *personalToken, now time.Time) PersonalAccessTokenInfo {
	return PersonalAccessTokenInfo{
		ID:        t.id,
		UserID:    t.userID,
		Name:      t.name,
		Scopes:    append([]string(nil), t.scopes...),
		Token:     t.secret,
		CreatedAt: t.createdAt,
		ExpiresAt: t.expiresAt.Format(patExpiresAtLayout),
		State:     t.state(now),
	}
}

// PersonalAccessTokens returns the personal access tokens created through the API, in creation order,
// secrets included.
func (s *Server) PersonalAccessTokens() []PersonalAccessTokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.timestamp()
	out := make([]PersonalAccessTokenInfo, 0, len(s.st.pats.byID))
	for _, t := range s.st.pats.byID {
		out = append(out, personalTokenInfo(t, now))
	}
	slices.SortFunc(out, func(a, b PersonalAccessTokenInfo) int { return int(a.ID - b.ID) })
	return out
}

// RevokePersonalAccessToken revokes a personal access token created through the API out of band, as its
// user would in GitLab's settings; revoking a revoked token is not an error.
func (s *Server) RevokePersonalAccessToken(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.pats.byID[id]
	if t == nil {
		return errorf(ErrNotFound, "personal access token %d", id)
	}
	t.revoked = true
	return nil
}
