package mockgitlab

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// AgentInfo describes a cluster agent for assertions in tests.
type AgentInfo struct {
	ID              int64     `json:"id"`
	ProjectID       int64     `json:"project_id"`
	CreatedByUserID int64     `json:"created_by_user_id"` // 0 when created without a user
	Name            string    `json:"name"`
	CreatedAt       time.Time `json:"created_at"`
	IsReceptive     bool      `json:"is_receptive"`
}

// agentNameRegexp is Gitlab::Regex.cluster_agent_name_regex (a DNS label).
var agentNameRegexp = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Agent name validation messages, in the order Rails runs the validations.
const (
	msgNameBlank      = "Name can't be blank"
	msgAgentNameLong  = "Name is too long (maximum is 63 characters)"
	msgNameTaken      = "Name has already been taken"
	msgAgentNameFmt   = "Name can contain only lowercase letters, digits, and '-', but cannot start or end with '-'"
	agentNameMaxChars = 63
)

// validateAgentName runs the agent model's name validations: presence, length, uniqueness within the
// project, format.
func (st *store) validateAgentName(projectID int64, name string) []string {
	var msgs []string
	if strings.TrimSpace(name) == "" {
		msgs = append(msgs, msgNameBlank)
	}
	if utf8.RuneCountInString(name) > agentNameMaxChars {
		msgs = append(msgs, msgAgentNameLong)
	}
	for _, a := range st.agents {
		if a.projectID == projectID && a.name == name {
			msgs = append(msgs, msgNameTaken)
			break
		}
	}
	if !agentNameRegexp.MatchString(name) {
		msgs = append(msgs, msgAgentNameFmt)
	}
	return msgs
}

// agentJSON is the Agent entity; is_receptive only in its EE form (see Server.renderAgent).
type agentJSON struct {
	ID              int64               `json:"id"`
	Name            string              `json:"name"`
	ConfigProject   projectIdentityJSON `json:"config_project"`
	CreatedAt       string              `json:"created_at"`
	CreatedByUserID *int64              `json:"created_by_user_id"`
	IsReceptive     *bool               `json:"is_receptive,omitempty"`
}

// renderAgent builds the JSON of an agent.
func (st *store) renderAgent(a *agent) agentJSON {
	receptive := a.urlConfigID != 0
	out := agentJSON{
		ID:            a.id,
		Name:          a.name,
		ConfigProject: st.identityJSON(st.projects[a.projectID]),
		CreatedAt:     formatTime(a.createdAt),
		IsReceptive:   &receptive,
	}
	if a.createdBy != 0 {
		id := a.createdBy
		out.CreatedByUserID = &id
	}
	return out
}

// projectAgent returns the agent with this id if it belongs to project p.
func (st *store) projectAgent(p *project, agentID int64) *agent {
	a := st.agents[agentID]
	if a == nil || a.projectID != p.id {
		return nil
	}
	return a
}

// routeParamsFor returns the decoded route parameters that GitLab includes in Link URLs.
func routeParamsFor(req *apiRequest) map[string]string {
	out := map[string]string{}
	if id, err := url.PathUnescape(req.route.projectSeg); err == nil {
		out["id"] = id
	}
	if req.route.agentSeg != "" {
		if id, err := url.PathUnescape(req.route.agentSeg); err == nil {
			out["agent_id"] = id
		}
	}
	return out
}

// listAgents serves GET /projects/:id/cluster_agents: Developer+, ordered by name, paginated.
func (s *Server) listAgents(req *apiRequest) *response {
	var errs []string
	pr := parsePagination(req.params, &errs)
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	if s.st.accessLevel(req.user, p) < accessDeveloper {
		return errAgentsNotFound()
	}
	return paginateRendered(req, s.st.agentsOf(p.id), pr, routeParamsFor(req), s.renderAgent)
}

// getAgent serves GET /projects/:id/cluster_agents/:agent_id.
func (s *Server) getAgent(req *apiRequest) *response {
	var errs []string
	agentID := routeInt(req.route.agentSeg, "agent_id", &errs)
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	if s.st.accessLevel(req.user, p) < accessDeveloper {
		return errRecordNotFound()
	}
	a := s.st.projectAgent(p, agentID)
	if a == nil {
		return errRecordNotFound()
	}
	return jsonResponse(http.StatusOK, s.renderAgent(a))
}

// createAgentEndpoint serves POST /projects/:id/cluster_agents (Maintainer).
func (s *Server) createAgentEndpoint(req *apiRequest) *response {
	var errs []string
	name := req.params.requiredString("name", &errs)
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	if s.st.accessLevel(req.user, p) < accessMaintainer {
		return errForbidden()
	}
	a, err := s.st.createAgent(p, name, req.user.id, s.timestamp())
	if err != nil {
		return badRequest(err)
	}
	return jsonResponse(http.StatusCreated, s.renderAgent(a))
}

// deleteAgentEndpoint serves DELETE /projects/:id/cluster_agents/:agent_id (Maintainer). The agent's
// tokens and URL configuration go with it.
func (s *Server) deleteAgentEndpoint(req *apiRequest) *response {
	var errs []string
	agentID := routeInt(req.route.agentSeg, "agent_id", &errs)
	if len(errs) > 0 {
		return paramErrors(errs)
	}
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	if s.st.accessLevel(req.user, p) < accessMaintainer {
		return errForbidden()
	}
	a := s.st.projectAgent(p, agentID)
	if a == nil {
		return errRecordNotFound()
	}
	if modifiedSince(req.r, a.createdAt) {
		return errPreconditionFailed()
	}
	s.st.deleteAgent(a)
	return noContent()
}

// modifiedSince implements GitLab's check_unmodified_since!: true when an If-Unmodified-Since header is
// present, parses, and is earlier than the object's updated_at (which is created_at in the mock).
func modifiedSince(r *http.Request, updatedAt time.Time) bool {
	h := r.Header.Get("If-Unmodified-Since")
	if h == "" {
		return false
	}
	t, err := http.ParseTime(h)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, h); err != nil {
			return false
		}
	}
	return updatedAt.After(t)
}

// agentInfo converts an agent for the Go API.
func agentInfo(a *agent) AgentInfo {
	return AgentInfo{
		ID:              a.id,
		ProjectID:       a.projectID,
		CreatedByUserID: a.createdBy,
		Name:            a.name,
		CreatedAt:       a.createdAt,
		IsReceptive:     a.urlConfigID != 0,
	}
}

// CreateAgent registers an agent out of band, as if through the GitLab UI, with the same validation as
// the API (a *ValidationError on failure). userID must be an existing user, or 0 for none.
func (s *Server) CreateAgent(projectID int64, name string, userID int64) (AgentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return AgentInfo{}, errorf(ErrNotFound, "project %d", projectID)
	}
	if userID != 0 && s.st.users[userID] == nil {
		return AgentInfo{}, errorf(ErrNotFound, "user %d", userID)
	}
	a, err := s.st.createAgent(p, name, userID, s.timestamp())
	if err != nil {
		return AgentInfo{}, err
	}
	return agentInfo(a), nil
}

// DeleteAgent deletes an agent out of band, with its tokens and URL configuration.
func (s *Server) DeleteAgent(agentID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.agents[agentID]
	if a == nil {
		return errorf(ErrNotFound, "agent %d", agentID)
	}
	s.st.deleteAgent(a)
	return nil
}

// Agent returns an agent by id.
func (s *Server) Agent(agentID int64) (AgentInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.agents[agentID]
	if a == nil {
		return AgentInfo{}, false
	}
	return agentInfo(a), true
}

// Agents returns a project's agents in API order (by name).
func (s *Server) Agents(projectID int64) []AgentInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AgentInfo
	for _, a := range s.st.agentsOf(projectID) {
		out = append(out, agentInfo(a))
	}
	return out
}
