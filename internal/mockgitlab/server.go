// Package mockgitlab is an in-memory mock of the parts of the GitLab API that the provider uses:
// cluster agents, agent tokens and agent URL configurations, plus GET /projects/:id, GET /user, GET
// /metadata (with the agent server, KAS) and the GraphQL API's agent connections. It answers as
// GitLab's own source defines it (the gitlabhq files each handler names: lib/api/clusters/*.rb,
// lib/api/helpers.rb, lib/api/api_guard.rb, the entities and models): the same check order, status codes,
// error bodies, pagination headers and JSON shapes as GitLab.
//
// A Server is an http.Handler meant to be mounted at the root: the API lives under /api/v4 and test
// control endpoints under /-/mock/. Tests can also drive it directly through its Go methods.
package mockgitlab

import (
	"context"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
)

// apiPrefix is where the GitLab API is mounted.
const apiPrefix = "/api/v4"

// Server is the mock GitLab instance. It is safe for concurrent use.
type Server struct {
	mu                    sync.Mutex
	st                    *store
	now                   func() time.Time
	settings              SeedSettings // normalized: every default filled in
	legacyRevokedTokenGet bool
	requests              []LoggedRequest
	faults                []*Fault
	rate                  rateLimiter
	kasUnreachable        bool // GitLab cannot reach KAS (SetKASReachable)
	graphql               *graphql.Schema
}

// LoggedRequest is one API request as recorded in the request log. Status 0 means no answer was sent (a
// drop fault, or a client that went away during a delay fault).
type LoggedRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`  // escaped path as sent, e.g. /api/v4/projects/root%2Ftest/cluster_agents
	Query  string `json:"query"` // raw query
	Status int    `json:"status"`
	// At is when the mock received the request, by the real clock (not the
	// settable one GitLab's timestamps come from).
	At time.Time `json:"at"`
}

// New builds a server from a seed, which is validated first.
func New(seed Seed) (*Server, error) {
	if err := validateSeed(seed); err != nil {
		return nil, err
	}
	s := &Server{now: time.Now, settings: seed.Settings.normalized()}
	st, err := newStore(seed, s.timestamp())
	if err != nil {
		return nil, err
	}
	s.st = st
	s.graphql = newGraphQLSchema(s)
	return s, nil
}

// timestamp returns the current time of the server clock in UTC, truncated to milliseconds as GitLab's
// JSON renders it.
func (s *Server) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// formatTime renders a timestamp as GitLab does: UTC with millisecond precision.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ServeHTTP serves the API under /api/v4 and the control endpoints under /-/mock/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	switch {
	case p == "/-/mock" || strings.HasPrefix(p, "/-/mock/"):
		writeResponse(w, s.serveControl(r))
	case p == apiPrefix || strings.HasPrefix(p, apiPrefix+"/") || p == graphqlPath:
		deliver(w, r, s.serveAPI(r))
	case p == KASProxyPath || strings.HasPrefix(p, KASProxyPath+"/"):
		writeResponse(w, s.serveK8sProxy(r))
	case p == signInPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// GitLab's web UI, where a redirect to sign in leads.
		writeResponse(w, signInResponse())
	default:
		writeResponse(w, errRouteNotFound())
	}
}

// deliver sends an API answer: after its delay, if any, and not at all when it is a drop or the client
// went away during the delay. Closing the connection without an answer is done as net/http provides for:
// panicking with http.ErrAbortHandler.
func deliver(w http.ResponseWriter, r *http.Request, resp *response) {
	if !wait(r.Context(), resp.delay) || resp.drop {
		panic(http.ErrAbortHandler)
	}
	writeResponse(w, resp)
}

// wait sleeps for d, or until ctx is done; it reports whether the whole time passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeResponse sends a built response.
func writeResponse(w http.ResponseWriter, resp *response) {
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.status)
	if len(resp.body) > 0 {
		_, _ = w.Write(resp.body)
	}
}

// apiRequest is an authenticated API request on its way through the handlers.
type apiRequest struct {
	r      *http.Request
	method string // HEAD is served as GET
	route  *route
	params params
	user   *user
	body   []byte // the raw body of a GraphQL request
}

// serveAPI handles one API request and records it in the request log. Parsing happens outside the lock;
// the handling itself runs under the server mutex, which makes every request atomic.
func (s *Server) serveAPI(r *http.Request) *response {
	received := time.Now()
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	escaped := r.URL.EscapedPath()
	var rt *route
	var prm params
	var body []byte
	var parseErr *response
	switch {
	case escaped == graphqlPath && r.Method == http.MethodPost:
		rt, prm = &route{kind: routeGraphQL}, queryParams(r)
		body, parseErr = readGraphQLBody(r)
	case escaped == graphqlPath:
	default:
		if rt = matchRoute(method, strings.TrimPrefix(escaped, apiPrefix)); rt != nil {
			prm, parseErr = readParams(r)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	req := &apiRequest{r: r, method: method, route: rt, params: prm, body: body}
	resp, rateHeaders := s.throttle(req)
	if resp == nil {
		resp = s.handleAPI(req, parseErr)
	}
	if resp.handleLater {
		// A delay fault before handling: wait without the lock, then handle, unless the client gave up.
		s.mu.Unlock()
		waited := wait(r.Context(), resp.delay)
		s.mu.Lock()
		if waited {
			resp = s.dispatch(req)
		} else {
			resp = &response{drop: true}
		}
	}
	status := resp.status
	if resp.drop {
		status = 0
	} else if rateHeaders != nil {
		if resp.header == nil {
			resp.header = http.Header{}
		}
		for k, vs := range rateHeaders {
			resp.header[k] = vs
		}
	}
	s.requests = append(s.requests, LoggedRequest{
		Method: r.Method,
		Path:   escaped,
		Query:  r.URL.RawQuery,
		Status: status,
		At:     received,
	})
	return resp
}

// handleAPI runs routing, authentication, fault injection and the endpoint.
func (s *Server) handleAPI(req *apiRequest, parseErr *response) *response {
	if req.route == nil || !s.serves(req.route.kind) {
		return errRouteNotFound()
	}
	if parseErr != nil {
		return parseErr
	}
	if req.route.kind == routeGraphQL {
		if refused := s.authenticateGraphQL(req); refused != nil {
			return refused
		}
	} else {
		req.user = s.authenticate(req.r, req.params)
		if req.user == nil {
			return errUnauthorized()
		}
		if refused := s.checkTokenAccess(req); refused != nil {
			return refused
		}
	}
	fault := s.takeFault(req.r.Method, req.r.URL.EscapedPath())
	if fault != nil && !fault.AfterCommit && fault.Answer != AnswerWrongID {
		return applyFault(fault, nil)
	}
	resp := s.dispatch(req)
	if fault != nil {
		return applyFault(fault, resp)
	}
	return resp
}

// dispatch calls the endpoint for the matched route.
func (s *Server) dispatch(req *apiRequest) *response {
	switch req.route.kind {
	case routeUser:
		return s.getCurrentUser(req)
	case routeProject:
		return s.getProject(req)
	case routeAgents:
		if req.method == http.MethodPost {
			return s.createAgentEndpoint(req)
		}
		return s.listAgents(req)
	case routeAgent:
		if req.method == http.MethodDelete {
			return s.deleteAgentEndpoint(req)
		}
		return s.getAgent(req)
	case routeTokens:
		if req.method == http.MethodPost {
			return s.createTokenEndpoint(req)
		}
		return s.listTokens(req)
	case routeToken:
		if req.method == http.MethodDelete {
			return s.revokeTokenEndpoint(req)
		}
		return s.getToken(req)
	case routeConfigs, routeConfig:
		return s.urlConfigEndpoint(req)
	case routeMetadata, routeVersion:
		return s.getMetadata(req)
	case routeLicense:
		return s.getLicense(req)
	case routeUserPATs:
		return s.createPersonalAccessTokenEndpoint(req)
	case routePATSelf:
		return s.revokeOwnTokenEndpoint(req)
	case routeFile, routeFileRaw:
		return s.repositoryFileEndpoint(req)
	case routeGraphQL:
		return s.serveGraphQL(req)
	}
	return errRouteNotFound()
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []LoggedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoggedRequest(nil), s.requests...)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// CountRequests counts logged requests with this method whose Path matches the pattern, where the
// pattern is a path.Match-style glob against the escaped path, e.g.
// CountRequests("POST", "/api/v4/projects/*/cluster_agents"). An empty method matches any method; a
// malformed pattern matches nothing.
func (s *Server) CountRequests(method, pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, lr := range s.requests {
		if method != "" && !strings.EqualFold(lr.Method, method) {
			continue
		}
		if ok, err := path.Match(pattern, lr.Path); err == nil && ok {
			n++
		}
	}
	return n
}

// SetReceptiveAgents switches the receptive_cluster_agents_enabled instance setting, which gates the
// URL-configuration endpoints.
func (s *Server) SetReceptiveAgents(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.ReceptiveAgents = enabled
}

// Settings returns the GitLab the mock plays and its settings, every default filled in.
func (s *Server) Settings() SeedSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// SetSettings replaces the GitLab the mock plays and its settings, as if the instance were upgraded,
// relicensed or reconfigured; empty fields take their defaults. Stored objects are kept.
func (s *Server) SetSettings(settings SeedSettings) error {
	if err := validateSettings(settings); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings = settings.normalized()
	return nil
}

// SetLegacyRevokedTokenGet makes GET of a revoked token answer 200 with status "revoked", as GitLab
// did before 16.0, instead of 404.
func (s *Server) SetLegacyRevokedTokenGet(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacyRevokedTokenGet = enabled
}

// SetNow replaces the clock used for created_at and similar timestamps; nil restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// AddUser adds a user at runtime. The id, username and tokens must not be in use.
func (s *Server) AddUser(u SeedUser) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.AddUser(u)
}

// SetMember gives a user a role (guest, reporter, developer, maintainer, owner) in a project; the role ""
// removes the membership.
func (s *Server) SetMember(projectID int64, username, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return errorf(ErrNotFound, "project %d", projectID)
	}
	u := s.st.usersByName[strings.ToLower(username)]
	if u == nil {
		return errorf(ErrNotFound, "user %q", username)
	}
	if role == "" {
		delete(p.members, u.id)
		return nil
	}
	level, ok := roleLevels[role]
	if !ok {
		return errorf(nil, "unknown role %q (want guest, reporter, developer, maintainer or owner)", role)
	}
	p.members[u.id] = level
	return nil
}

// SetProjectVisibility makes a project private, internal or public.
func (s *Server) SetProjectVisibility(projectID int64, visibility string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return errorf(ErrNotFound, "project %d", projectID)
	}
	switch visibility {
	case "private", "internal", "public":
	default:
		return errorf(nil, "unknown visibility %q (want private, internal or public)", visibility)
	}
	p.visibility = visibility
	return nil
}

// RenameProject moves a project to a new full path and leaves a redirect route from the old path, so
// that GET by the old path answers 301 and other methods 405.
func (s *Server) RenameProject(projectID int64, newPathWithNamespace string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.renameProject(projectID, newPathWithNamespace)
}
