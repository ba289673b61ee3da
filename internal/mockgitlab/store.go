package mockgitlab

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// user is an account of the mock instance.
type user struct {
	id       int64
	username string
	name     string // display name
	admin    bool
}

// project is a project with its members (user id -> access level).
type project struct {
	id            int64
	fullPath      string
	name          string
	namespaceName string // display name of the namespace; "" for the default (see SeedProject)
	description   string
	createdAt     time.Time
	members       map[int64]int
	visibility    string // private, internal or public
	repo          *repository
}

// path returns the last segment of the full path.
func (p *project) path() string {
	return p.fullPath[strings.LastIndex(p.fullPath, "/")+1:]
}

// nameWithNamespace is GitLab's "<namespace display name> / <project name>", e.g. "Administrator / test"
// for root's project test. The namespace's display name is the seeded one; otherwise a personal
// namespace (the path of a user) takes the user's display name, and a group its path segments joined by
// " / ".
func (st *store) nameWithNamespace(p *project) string {
	ns := p.namespaceName
	if ns == "" {
		nsPath := namespaceOf(p.fullPath)
		if u := st.usersByName[strings.ToLower(nsPath)]; u != nil {
			ns = u.name
		} else {
			ns = strings.Join(strings.Split(nsPath, "/"), " / ")
		}
	}
	return ns + " / " + p.name
}

// agent is a registered cluster agent.
type agent struct {
	id          int64
	projectID   int64
	name        string
	createdAt   time.Time
	createdBy   int64
	urlConfigID int64 // 0 when the agent has no URL configuration (is_receptive false)
}

// Token statuses.
const (
	tokenActive  = "active"
	tokenRevoked = "revoked"
)

// agentToken is an agent token; revoked tokens stay in the store.
type agentToken struct {
	id          int64
	agentID     int64
	name        string
	description *string
	status      string
	secret      string
	createdAt   time.Time
	createdBy   int64
	lastUsedAt  *time.Time
}

// urlConfig is an agent URL configuration (receptive agents).
type urlConfig struct {
	id         int64
	agentID    int64
	url        string
	publicKey  *string
	privateKey []byte
	clientCert *string
	clientKey  *string
	caCert     *string
	tlsHost    *string
	createdAt  time.Time
}

// store is the in-memory state. It is not safe for concurrent use; Server guards it with its mutex.
type store struct {
	users        map[int64]*user
	usersByName  map[string]*user // lower-case username
	userByToken  map[string]*user
	tokenLimits  map[string]SeedAccessToken // tokens with scopes or a state other than api / active
	projects     map[int64]*project
	redirects    map[string]int64 // lower-case old full path -> project id
	agents       map[int64]*agent
	tokens       map[int64]*agentToken
	urlConfigs   map[int64]*urlConfig
	pats         personalTokens               // personal access tokens created through the API
	connections  map[int64][]*agentConnection // agent id -> agentk connections (kas.go)
	lastAgentID  int64
	lastTokenID  int64
	lastConfigID int64
}

// newStore builds the state described by a validated seed.
func newStore(seed Seed, createdAt time.Time) (*store, error) {
	st := &store{
		users:       map[int64]*user{},
		usersByName: map[string]*user{},
		userByToken: map[string]*user{},
		tokenLimits: map[string]SeedAccessToken{},
		projects:    map[int64]*project{},
		redirects:   map[string]int64{},
		agents:      map[int64]*agent{},
		tokens:      map[int64]*agentToken{},
		urlConfigs:  map[int64]*urlConfig{},
		pats:        newPersonalTokens(),
		connections: map[int64][]*agentConnection{},
	}
	for _, u := range seed.Users {
		if err := st.AddUser(u); err != nil {
			return nil, err
		}
	}
	for _, sp := range seed.Projects {
		name := sp.Name
		if name == "" {
			name = sp.PathWithNamespace[strings.LastIndex(sp.PathWithNamespace, "/")+1:]
		}
		p := &project{
			id:            sp.ID,
			fullPath:      sp.PathWithNamespace,
			name:          name,
			namespaceName: sp.NamespaceName,
			description:   sp.Description,
			createdAt:     createdAt,
			members:       map[int64]int{},
			visibility:    sp.Visibility,
		}
		if p.visibility == "" {
			p.visibility = "private"
		}
		p.repo = newRepository(p, createdAt, sp.EmptyRepository)
		for username, role := range sp.Members {
			u := st.usersByName[strings.ToLower(username)]
			if u == nil {
				return nil, fmt.Errorf("project %d: unknown member %q", sp.ID, username)
			}
			level, ok := roleLevels[role]
			if !ok {
				return nil, fmt.Errorf("project %d: unknown role %q", sp.ID, role)
			}
			p.members[u.id] = level
		}
		st.projects[p.id] = p
	}
	return st, nil
}

// AddUser adds a user after checking it against the existing ones.
func (st *store) AddUser(su SeedUser) error {
	ids := map[int64]bool{}
	for id := range st.users {
		ids[id] = true
	}
	names := map[string]bool{}
	for n := range st.usersByName {
		names[n] = true
	}
	tokens := map[string]bool{}
	for t := range st.userByToken {
		tokens[t] = true
	}
	if err := validateUser(su, ids, names, tokens); err != nil {
		return err
	}
	name := su.Name
	if name == "" {
		name = su.Username
	}
	u := &user{id: su.ID, username: su.Username, name: name, admin: su.Admin}
	st.users[u.id] = u
	st.usersByName[strings.ToLower(u.username)] = u
	for _, t := range su.Tokens {
		st.userByToken[t] = u
	}
	for _, t := range su.AccessTokens {
		st.userByToken[t.Token] = u
		st.tokenLimits[t.Token] = t
	}
	return nil
}

// accessLevel is the user's effective level in the project; admins have every ability.
func (st *store) accessLevel(u *user, p *project) int {
	if u.admin {
		return accessOwner
	}
	return p.members[u.id]
}

// canRead reports whether the user can see the project at all: a member, or anyone for an internal or
// public project.
func (st *store) canRead(u *user, p *project) bool {
	return st.accessLevel(u, p) >= accessGuest || p.visibility != "private"
}

// canReadCode reports whether the user may read the project's repository (GitLab's read_code): anyone
// on a public project, Reporter and above otherwise.
func (st *store) canReadCode(u *user, p *project) bool {
	return p.visibility == "public" || st.accessLevel(u, p) >= accessReporter
}

// projectByPath finds a project by its full path: exact match, then case-insensitive. It does not follow
// redirects.
func (st *store) projectByPath(fullPath string) *project {
	for _, p := range st.projects {
		if p.fullPath == fullPath {
			return p
		}
	}
	lower := strings.ToLower(fullPath)
	var found *project
	for _, p := range st.projects {
		if strings.ToLower(p.fullPath) == lower && (found == nil || p.id < found.id) {
			found = p
		}
	}
	return found
}

// renameProject moves a project to a new full path and leaves a redirect route at the old one.
func (st *store) renameProject(id int64, newPath string) error {
	p := st.projects[id]
	if p == nil {
		return fmt.Errorf("project %d: %w", id, ErrNotFound)
	}
	if err := validateProjectPath(newPath); err != nil {
		return err
	}
	if other := st.projectByPath(newPath); other != nil && other.id != id {
		return fmt.Errorf("path %q is already taken by project %d", newPath, other.id)
	}
	if p.fullPath == newPath {
		return nil
	}
	// A path that is claimed again stops redirecting, as in GitLab.
	delete(st.redirects, strings.ToLower(newPath))
	st.redirects[strings.ToLower(p.fullPath)] = p.id
	if namespaceOf(p.fullPath) != namespaceOf(newPath) {
		p.namespaceName = "" // moved to another namespace: that namespace's name
	}
	p.fullPath = newPath
	return nil
}

// namespaceOf is the namespace part of a full project path.
func namespaceOf(fullPath string) string {
	return fullPath[:strings.LastIndex(fullPath, "/")]
}

// agentsOf returns the project's agents ordered by name (then id).
func (st *store) agentsOf(projectID int64) []*agent {
	var out []*agent
	for _, a := range st.agents {
		if a.projectID == projectID {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].id < out[j].id
	})
	return out
}

// createAgent validates and registers an agent. Validation failures are *ValidationError.
func (st *store) createAgent(p *project, name string, userID int64, now time.Time) (*agent, error) {
	if msgs := st.validateAgentName(p.id, name); len(msgs) > 0 {
		return nil, &ValidationError{Messages: msgs}
	}
	st.lastAgentID++
	a := &agent{id: st.lastAgentID, projectID: p.id, name: name, createdAt: now, createdBy: userID}
	st.agents[a.id] = a
	return a, nil
}

// deleteAgent removes an agent together with its tokens and URL configuration (the database cascades).
func (st *store) deleteAgent(a *agent) {
	for id, t := range st.tokens {
		if t.agentID == a.id {
			delete(st.tokens, id)
		}
	}
	for id, c := range st.urlConfigs {
		if c.agentID == a.id {
			delete(st.urlConfigs, id)
		}
	}
	delete(st.connections, a.id)
	delete(st.agents, a.id)
}

// activeTokensOf returns the agent's active tokens ordered by last_used_at descending, nulls last, with
// the id ascending as a stable tie-break.
func (st *store) activeTokensOf(agentID int64) []*agentToken {
	var out []*agentToken
	for _, t := range st.tokens {
		if t.agentID == agentID && t.status == tokenActive {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].lastUsedAt, out[j].lastUsedAt
		switch {
		case a != nil && b != nil && !a.Equal(*b):
			return a.After(*b)
		case a != nil && b == nil:
			return true
		case a == nil && b != nil:
			return false
		}
		return out[i].id < out[j].id
	})
	return out
}

// createToken enforces the two-active-tokens limit, validates and creates a token.
func (st *store) createToken(a *agent, name string, description *string, userID int64, now time.Time) (*agentToken, error) {
	if len(st.activeTokensOf(a.id)) >= 2 {
		return nil, ErrTokenLimit
	}
	return st.insertToken(a, name, description, userID, now)
}

// insertToken validates and creates a token, without the two-active-tokens limit (which GitLab enforces
// since 16.2; agents keep the tokens they had before).
func (st *store) insertToken(a *agent, name string, description *string, userID int64, now time.Time) (*agentToken, error) {
	if msgs := validateTokenFields(name, description); len(msgs) > 0 {
		return nil, &ValidationError{Messages: msgs}
	}
	secret, err := newAgentTokenSecret()
	if err != nil {
		return nil, err
	}
	st.lastTokenID++
	t := &agentToken{
		id:          st.lastTokenID,
		agentID:     a.id,
		name:        name,
		description: description,
		status:      tokenActive,
		secret:      secret,
		createdAt:   now,
		createdBy:   userID,
	}
	st.tokens[t.id] = t
	return t, nil
}

// configOf returns the agent's URL configuration, or nil.
func (st *store) configOf(a *agent) *urlConfig {
	if a.urlConfigID == 0 {
		return nil
	}
	return st.urlConfigs[a.urlConfigID]
}

// deleteConfig removes a URL configuration and clears the agent's is_receptive flag.
func (st *store) deleteConfig(c *urlConfig) {
	delete(st.urlConfigs, c.id)
	if a := st.agents[c.agentID]; a != nil && a.urlConfigID == c.id {
		a.urlConfigID = 0
	}
}
