package mockgitlab

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenInfo describes an agent token for assertions in tests.
type TokenInfo struct {
	ID              int64      `json:"id"`
	AgentID         int64      `json:"agent_id"`
	CreatedByUserID int64      `json:"created_by_user_id"` // 0 when created without a user
	Name            string     `json:"name"`
	Description     string     `json:"description"` // "" when null
	Status          string     `json:"status"`      // "active" or "revoked"
	Token           string     `json:"token,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	LastUsedAt      *time.Time `json:"last_used_at"`
}

// agentTokenPrefix is the prefix of agent token secrets (GitLab 16.x+).
const agentTokenPrefix = "glagent-"

// friendlyTokenReplacer applies Devise.friendly_token's substitutions of confusable characters.
var friendlyTokenReplacer = strings.NewReplacer("l", "s", "I", "x", "O", "y", "0", "z")

// newAgentTokenSecret returns "glagent-" followed by Devise.friendly_token(50): 50 characters of
// URL-safe Base64 from crypto/rand with l, I, O and 0 replaced by s, x, y and z.
func newAgentTokenSecret() (string, error) {
	b := make([]byte, 38) // 38 bytes encode to 51 characters
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := base64.RawURLEncoding.EncodeToString(b)[:50]
	return agentTokenPrefix + friendlyTokenReplacer.Replace(s), nil
}

// Token validation limits and messages, in the model's declaration order (description first).
const (
	tokenNameMaxChars        = 255
	tokenDescriptionMaxChars = 1024
	msgTokenNameLong         = "Name is too long (maximum is 255 characters)"
	msgTokenDescriptionLong  = "Description is too long (maximum is 1024 characters)"
)

// validateTokenFields runs the agent token model validations.
func validateTokenFields(name string, description *string) []string {
	var msgs []string
	if description != nil && utf8.RuneCountInString(*description) > tokenDescriptionMaxChars {
		msgs = append(msgs, msgTokenDescriptionLong)
	}
	if strings.TrimSpace(name) == "" {
		msgs = append(msgs, msgNameBlank)
	}
	if utf8.RuneCountInString(name) > tokenNameMaxChars {
		msgs = append(msgs, msgTokenNameLong)
	}
	return msgs
}

// tokenBasicJSON is the AgentTokenBasic entity (list).
type tokenBasicJSON struct {
	ID              int64   `json:"id"`
	Name            string  `json:"name"`
	Description     *string `json:"description"`
	AgentID         int64   `json:"agent_id"`
	Status          string  `json:"status"`
	CreatedAt       string  `json:"created_at"`
	CreatedByUserID *int64  `json:"created_by_user_id"`
}

// tokenJSON is the AgentToken entity (single GET): the basic shape plus last_used_at.
type tokenJSON struct {
	tokenBasicJSON
	LastUsedAt *string `json:"last_used_at"`
}

// tokenWithSecretJSON is the AgentTokenWithToken entity (POST only).
type tokenWithSecretJSON struct {
	tokenJSON
	Token string `json:"token"`
}

// renderTokenBasic builds the basic JSON of a token.
func renderTokenBasic(t *agentToken) tokenBasicJSON {
	out := tokenBasicJSON{
		ID:          t.id,
		Name:        t.name,
		Description: t.description,
		AgentID:     t.agentID,
		Status:      t.status,
		CreatedAt:   formatTime(t.createdAt),
	}
	if t.createdBy != 0 {
		id := t.createdBy
		out.CreatedByUserID = &id
	}
	return out
}

// renderToken builds the single-token JSON.
func renderToken(t *agentToken) tokenJSON {
	out := tokenJSON{tokenBasicJSON: renderTokenBasic(t)}
	if t.lastUsedAt != nil {
		s := formatTime(*t.lastUsedAt)
		out.LastUsedAt = &s
	}
	return out
}

// tokenRoute validates the route ids of a token endpoint and resolves project and agent, checking the
// needed access level first: readers without Developer get 404 (finders return nothing), writers
// without Maintainer get 403 before the agent is looked up.
func (s *Server) tokenRoute(req *apiRequest, extra func(errs *[]string), write bool) (*agent, int64, *response) {
	var errs []string
	agentID := routeInt(req.route.agentSeg, "agent_id", &errs)
	var tokenID int64
	if req.route.childSeg != "" {
		tokenID = routeInt(req.route.childSeg, "token_id", &errs)
	}
	if extra != nil {
		extra(&errs)
	}
	if len(errs) > 0 {
		return nil, 0, paramErrors(errs)
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return nil, 0, errResp
	}
	level := s.st.accessLevel(req.user, p)
	if write && level < accessMaintainer {
		return nil, 0, errForbidden()
	}
	if !write && level < accessDeveloper {
		return nil, 0, errRecordNotFound()
	}
	a := s.st.projectAgent(p, agentID)
	if a == nil {
		return nil, 0, errRecordNotFound()
	}
	return a, tokenID, nil
}

// listTokens serves GET .../:agent_id/tokens: active tokens only, basic shape, paginated.
func (s *Server) listTokens(req *apiRequest) *response {
	var pr pageRequest
	a, _, errResp := s.tokenRoute(req, func(errs *[]string) { pr = parsePagination(req.params, errs) }, false)
	if errResp != nil {
		return errResp
	}
	var items []tokenBasicJSON
	for _, t := range s.st.activeTokensOf(a.id) {
		items = append(items, renderTokenBasic(t))
	}
	return paginate(req, items, pr, routeParamsFor(req))
}

// getToken serves GET .../:agent_id/tokens/:token_id; revoked tokens are 404 unless the legacy switch
// is on.
func (s *Server) getToken(req *apiRequest) *response {
	a, tokenID, errResp := s.tokenRoute(req, nil, false)
	if errResp != nil {
		return errResp
	}
	t := s.st.tokens[tokenID]
	if t == nil || t.agentID != a.id || (t.status != tokenActive && !s.legacyRevokedTokenGet) {
		return errRecordNotFound()
	}
	return jsonResponse(http.StatusOK, renderToken(t))
}

// createTokenEndpoint serves POST .../:agent_id/tokens (Maintainer); the only answer with the secret.
func (s *Server) createTokenEndpoint(req *apiRequest) *response {
	var name string
	var description *string
	a, _, errResp := s.tokenRoute(req, func(errs *[]string) {
		name = req.params.requiredString("name", errs)
		description = req.params.optionalString("description", errs)
	}, true)
	if errResp != nil {
		return errResp
	}
	t, err := s.st.createToken(a, name, description, req.user.id, s.timestamp())
	if err != nil {
		return badRequest(err)
	}
	return jsonResponse(http.StatusCreated, tokenWithSecretJSON{tokenJSON: renderToken(t), Token: t.secret})
}

// revokeTokenEndpoint serves DELETE .../:agent_id/tokens/:token_id (Maintainer): an idempotent revoke.
func (s *Server) revokeTokenEndpoint(req *apiRequest) *response {
	a, tokenID, errResp := s.tokenRoute(req, nil, true)
	if errResp != nil {
		return errResp
	}
	t := s.st.tokens[tokenID]
	if t == nil || t.agentID != a.id {
		return errRecordNotFound()
	}
	t.status = tokenRevoked
	return noContent()
}

// tokenInfo converts a token for the Go API, secret included.
func tokenInfo(t *agentToken) TokenInfo {
	info := TokenInfo{
		ID:              t.id,
		AgentID:         t.agentID,
		CreatedByUserID: t.createdBy,
		Name:            t.name,
		Status:          t.status,
		Token:           t.secret,
		CreatedAt:       t.createdAt,
	}
	if t.description != nil {
		info.Description = *t.description
	}
	if t.lastUsedAt != nil {
		at := *t.lastUsedAt
		info.LastUsedAt = &at
	}
	return info
}

// CreateToken creates an agent token out of band. It respects the two-active-tokens limit (ErrTokenLimit)
// and the model validations (*ValidationError), and returns the secret in TokenInfo.Token. An empty
// description is stored as null; userID must be an existing user, or 0 for none.
func (s *Server) CreateToken(agentID int64, name, description string, userID int64) (TokenInfo, error) {
	return s.createTokenOutOfBand(agentID, name, description, userID, (*store).createToken)
}

// CreateGrandfatheredToken creates an active agent token out of band past the two-active-tokens limit, as
// GitLab allowed before 16.2 (agents keep such tokens after an upgrade). It runs the model validations
// (*ValidationError) and returns the secret in TokenInfo.Token; an empty description is stored as null.
// userID must be an existing user, or 0 for none.
func (s *Server) CreateGrandfatheredToken(agentID int64, name, description string, userID int64) (TokenInfo, error) {
	return s.createTokenOutOfBand(agentID, name, description, userID, (*store).insertToken)
}

// createTokenOutOfBand checks the agent and the user, then creates the token with create.
func (s *Server) createTokenOutOfBand(agentID int64, name, description string, userID int64,
	create func(st *store, a *agent, name string, description *string, userID int64, now time.Time) (*agentToken, error),
) (TokenInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.agents[agentID]
	if a == nil {
		return TokenInfo{}, errorf(ErrNotFound, "agent %d", agentID)
	}
	if userID != 0 && s.st.users[userID] == nil {
		return TokenInfo{}, errorf(ErrNotFound, "user %d", userID)
	}
	var desc *string
	if description != "" {
		desc = &description
	}
	t, err := create(s.st, a, name, desc, userID, s.timestamp())
	if err != nil {
		return TokenInfo{}, err
	}
	return tokenInfo(t), nil
}

// withToken runs fn on a token under the lock, or reports ErrNotFound.
func (s *Server) withToken(tokenID int64, fn func(t *agentToken)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[tokenID]
	if t == nil {
		return errorf(ErrNotFound, "token %d", tokenID)
	}
	fn(t)
	return nil
}

// RevokeToken revokes a token out of band; revoking a revoked token is not an error.
func (s *Server) RevokeToken(tokenID int64) error {
	return s.withToken(tokenID, func(t *agentToken) { t.status = tokenRevoked })
}

// MarkTokenUsed sets a token's last_used_at, as an agent connecting with it would.
func (s *Server) MarkTokenUsed(tokenID int64, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	return s.withToken(tokenID, func(t *agentToken) { t.lastUsedAt = &at })
}

// AgeToken moves a token's created_at back by d.
func (s *Server) AgeToken(tokenID int64, d time.Duration) error {
	return s.withToken(tokenID, func(t *agentToken) { t.createdAt = t.createdAt.Add(-d).Truncate(time.Millisecond) })
}

// Token returns a token in any status, including its secret, for assertions.
func (s *Server) Token(tokenID int64) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[tokenID]
	if t == nil {
		return TokenInfo{}, false
	}
	return tokenInfo(t), true
}

// ActiveTokens returns an agent's active tokens in API list order (last_used_at descending, nulls last,
// then id), secrets included.
func (s *Server) ActiveTokens(agentID int64) []TokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TokenInfo
	for _, t := range s.st.activeTokensOf(agentID) {
		out = append(out, tokenInfo(t))
	}
	return out
}
