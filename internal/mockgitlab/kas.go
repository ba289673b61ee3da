package mockgitlab

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// The agent server (KAS) of the GitLab played, and the agentk connections it tracks.
//
// GitLab tells clients about KAS in GET /metadata (lib/api/metadata.rb, which runs the GraphQL query of
// app/graphql/types/app_config/kas_type.rb): enabled, externalUrl (what agentk dials: the Helm chart's
// config.kasAddress), externalK8sProxyUrl (17.6+) and version (null when GitLab cannot reach KAS). The
// agent connections come from KAS's AgentTracker (app/graphql/resolvers/kas/agent_connections_resolver.rb):
// one per agentk pod connected, none until agentk connects. Registering an agent or minting its token
// does not connect it: tests and the demo say when agentk "connects" (ConnectAgent, or POST
// /-/mock/agents/{id}/connections).

// kasPath is where the Linux package serves KAS behind GitLab's own host:
// gitlab_kas['external_url'] defaults to wss://<gitlab host>/-/kubernetes-agent/.
const kasPath = "/-/kubernetes-agent/"

// KASProxyPath is the path of the KAS Kubernetes API proxy the mock announces by default (derived, as
// GitLab does, from the default external URL): <mock URL>/-/kubernetes-agent/k8s-proxy.
const KASProxyPath = kasPath + "k8s-proxy"

// Versions that changed GET /metadata (doc/api/metadata.md): the endpoint itself (15.2), the
// `enterprise` key (15.6) and kas.externalK8sProxyUrl (17.6).
var (
	metadataSince            = [2]int{15, 2}
	metadataEnterpriseSince  = [2]int{15, 6}
	metadataK8sProxyURLSince = [2]int{17, 6}
)

// versionAtLeast reports whether the GitLab played is at least major.minor.
func (s *Server) versionAtLeast(v [2]int) bool {
	major, minor, _ := parseVersion(s.settings.GitLabVersion)
	return major > v[0] || major == v[0] && minor >= v[1]
}

// agentConnection is one agentk pod connected to KAS for an agent.
type agentConnection struct {
	id           int64
	connectedAt  time.Time
	version      string
	commit       string
	podNamespace string
	podName      string
	warnings     []AgentVersionWarning
}

// AgentConnection is an agentk connection for the Go API and the control endpoints. In ConnectAgent,
// empty fields take defaults: a random ConnectionID, the server clock's ConnectedAt, agentk
// "v<GitLab version>", commit "0123abcd", namespace "gitlab-agent-<agent name>" and a pod name
// "<agent name>-<random>".
type AgentConnection struct {
	ConnectionID int64                 `json:"connection_id,omitempty"`
	ConnectedAt  time.Time             `json:"connected_at"`
	Version      string                `json:"version,omitempty"`
	Commit       string                `json:"commit,omitempty"`
	PodNamespace string                `json:"pod_namespace,omitempty"`
	PodName      string                `json:"pod_name,omitempty"`
	Warnings     []AgentVersionWarning `json:"warnings,omitempty"`
}

// AgentVersionWarning is a warning KAS attaches to a connection (GraphQL AgentVersionWarning).
type AgentVersionWarning struct {
	Message string `json:"message"`
	Type    string `json:"type"`
}

// connectionsOf returns the agent's connections, oldest first.
func (st *store) connectionsOf(agentID int64) []*agentConnection {
	out := append([]*agentConnection(nil), st.connections[agentID]...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].connectedAt.Before(out[j].connectedAt) })
	return out
}

// agentConnected reports whether at least one agentk is connected for the agent.
func (st *store) agentConnected(agentID int64) bool {
	return len(st.connections[agentID]) > 0
}

func connectionInfo(c *agentConnection) AgentConnection {
	return AgentConnection{
		ConnectionID: c.id,
		ConnectedAt:  c.connectedAt,
		Version:      c.version,
		Commit:       c.commit,
		PodNamespace: c.podNamespace,
		PodName:      c.podName,
		Warnings:     append([]AgentVersionWarning(nil), c.warnings...),
	}
}

// randomInt63 is a positive random number below max.
func randomInt63(limit int64) int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(limit))
	if err != nil {
		return 1
	}
	return n.Int64() + 1
}

// ConnectAgent plays agentk connecting to KAS for an agent: it adds one connection (one pod) and returns
// it with its defaults filled in. An agent may have several connections (several pods).
func (s *Server) ConnectAgent(agentID int64, c AgentConnection) (AgentConnection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.agents[agentID]
	if a == nil {
		return AgentConnection{}, errorf(ErrNotFound, "agent %d", agentID)
	}
	conn := &agentConnection{
		id:           c.ConnectionID,
		connectedAt:  c.ConnectedAt,
		version:      c.Version,
		commit:       c.Commit,
		podNamespace: c.PodNamespace,
		podName:      c.PodName,
		warnings:     append([]AgentVersionWarning(nil), c.Warnings...),
	}
	if conn.id == 0 {
		conn.id = randomInt63(1 << 62)
	}
	for _, other := range s.st.connections[agentID] {
		if other.id == conn.id {
			return AgentConnection{}, fmt.Errorf("agent %d already has connection %d", agentID, conn.id)
		}
	}
	if conn.connectedAt.IsZero() {
		conn.connectedAt = s.now()
	}
	// GraphQL renders connectedAt with whole seconds (Time.at(connected_at.seconds)).
	conn.connectedAt = conn.connectedAt.UTC().Truncate(time.Second)
	if conn.version == "" {
		conn.version = "v" + s.settings.GitLabVersion
	}
	if conn.commit == "" {
		conn.commit = "0123abcd"
	}
	if conn.podNamespace == "" {
		conn.podNamespace = "gitlab-agent-" + a.name
	}
	if conn.podName == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		conn.podName = a.name + "-" + hex.EncodeToString(b[:])
	}
	s.st.connections[agentID] = append(s.st.connections[agentID], conn)
	return connectionInfo(conn), nil
}

// DisconnectAgent plays agentk going away: it drops the agent's connection connectionID, or all of its
// connections when connectionID is 0. It returns how many were dropped.
func (s *Server) DisconnectAgent(agentID, connectionID int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.agents[agentID] == nil {
		return 0, errorf(ErrNotFound, "agent %d", agentID)
	}
	kept := s.st.connections[agentID][:0]
	dropped := 0
	for _, c := range s.st.connections[agentID] {
		if connectionID == 0 || c.id == connectionID {
			dropped++
			continue
		}
		kept = append(kept, c)
	}
	if connectionID != 0 && dropped == 0 {
		return 0, errorf(ErrNotFound, "connection %d of agent %d", connectionID, agentID)
	}
	if len(kept) == 0 {
		delete(s.st.connections, agentID)
	} else {
		s.st.connections[agentID] = kept
	}
	return dropped, nil
}

// AgentConnections returns the agent's connections, oldest first.
func (s *Server) AgentConnections(agentID int64) []AgentConnection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AgentConnection
	for _, c := range s.st.connectionsOf(agentID) {
		out = append(out, connectionInfo(c))
	}
	return out
}

// AgentConnected reports whether at least one agentk is connected for the agent.
func (s *Server) AgentConnected(agentID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.agentConnected(agentID)
}

// SetKASReachable makes KAS reachable from GitLab again (true) or not (false). While it is not, GitLab
// cannot ask KAS anything: the connections field of GraphQL answers null with the error
// "GRPC::Unavailable", and GET /metadata has a null kas.version. agentk connections are kept.
func (s *Server) SetKASReachable(reachable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kasUnreachable = !reachable
}

// KASInfo is what GET /metadata tells about KAS for a mock reached at baseURL (e.g.
// http://127.0.0.1:8080): nil fields are the nulls GitLab sends.
type KASInfo struct {
	Enabled             bool
	ExternalURL         *string
	ExternalK8sProxyURL *string
	Version             *string
}

// KAS returns what GET /metadata tells about KAS, for a mock reached at baseURL (the URL the mock's
// default KAS addresses are derived from). Before GitLab 17.6 GitLab does not send
// ExternalK8sProxyURL; KAS returns it all the same, as clients derive it there.
func (s *Server) KAS(baseURL string) KASInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kasInfo(baseURL)
}

// kasInfo is KAS under the lock.
func (s *Server) kasInfo(baseURL string) KASInfo {
	if s.settings.KASDisabled {
		return KASInfo{}
	}
	external := s.settings.KASExternalURL
	if external == "" {
		external = defaultKASURL(baseURL)
	}
	proxy := s.settings.KASExternalK8sProxyURL
	if proxy == "" {
		proxy = deriveK8sProxyURL(external)
	}
	info := KASInfo{Enabled: true, ExternalURL: &external, ExternalK8sProxyURL: &proxy}
	if !s.kasUnreachable {
		v := s.settings.KASVersion
		if v == "" {
			v = s.settings.GitLabVersion
		}
		info.Version = &v
	}
	return info
}

// defaultKASURL is the Linux package's default gitlab_kas['external_url']: the GitLab host with ws(s) and
// /-/kubernetes-agent/.
func defaultKASURL(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "wss://gitlab.example.com" + kasPath
	}
	scheme := "wss"
	if u.Scheme == "http" {
		scheme = "ws"
	}
	return scheme + "://" + u.Host + kasPath
}

// deriveK8sProxyURL is GitLab's default kas.externalK8sProxyUrl (app/models/app_config/kas_metadata.rb,
// lib/gitlab/kas.rb): URI.join(externalUrl, "k8s-proxy") with https for grpcs and wss, http otherwise.
func deriveK8sProxyURL(external string) string {
	u, err := url.Parse(external)
	if err != nil {
		return ""
	}
	u = u.ResolveReference(&url.URL{Path: "k8s-proxy"})
	if u.Scheme == "grpcs" || u.Scheme == "wss" {
		u.Scheme = "https"
	} else {
		u.Scheme = "http"
	}
	return u.String()
}

// requestBaseURL is the URL a request reached the mock at, e.g. http://127.0.0.1:8080.
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// optionalString is a JSON value that may be absent (a key GitLab's version does not send) or null.
type optionalString struct {
	present bool
	value   *string
}

func (o optionalString) IsZero() bool { return !o.present }

func (o optionalString) MarshalJSON() ([]byte, error) { return json.Marshal(o.value) }

// metadataJSON is the GET /metadata answer.
type metadataJSON struct {
	Version    string       `json:"version"`
	Revision   string       `json:"revision"`
	KAS        *metadataKAS `json:"kas,omitempty"`
	Enterprise *bool        `json:"enterprise,omitempty"`
}

// metadataKAS describes KAS in GitLab's camelCase.
type metadataKAS struct {
	Enabled             bool           `json:"enabled"`
	ExternalURL         *string        `json:"externalUrl"`
	ExternalK8sProxyURL optionalString `json:"externalK8sProxyUrl,omitzero"`
	Version             *string        `json:"version"`
}

// mockRevision is the revision GET /metadata reports: a short commit SHA.
const mockRevision = "6f1c2a9b3d4"

// getMetadata serves GET /metadata and its alias GET /version: the version ("-ee" on Enterprise
// Edition), the revision, KAS and (15.6+) the edition. GET /version predates /metadata (8.13); before
// 15.2 the mock answers it with the version and revision only.
func (s *Server) getMetadata(req *apiRequest) *response {
	version := s.settings.GitLabVersion
	ee := s.settings.Edition == EditionEE
	if ee {
		version += "-ee"
	}
	out := metadataJSON{Version: version, Revision: mockRevision}
	if !s.versionAtLeast(metadataSince) {
		return jsonResponse(http.StatusOK, out)
	}
	kas := s.kasInfo(requestBaseURL(req.r))
	out.KAS = &metadataKAS{Enabled: kas.Enabled, ExternalURL: kas.ExternalURL, Version: kas.Version}
	if s.versionAtLeast(metadataK8sProxyURLSince) {
		out.KAS.ExternalK8sProxyURL = optionalString{present: true, value: kas.ExternalK8sProxyURL}
	}
	if s.versionAtLeast(metadataEnterpriseSince) {
		out.Enterprise = &ee
	}
	return jsonResponse(http.StatusOK, out)
}

// metadataScopes are the token scopes GET /metadata accepts besides api (allow_access_with_scope in
// lib/api/metadata.rb): read_api and read_user, and in newer releases ai_features.
var metadataScopes = []string{"read_api", "read_user", "ai_features"}

// controlConnect is the body of POST /-/mock/agents/{id}/connections.
type controlConnect = AgentConnection

// serveKASControl handles the control endpoints of agent connections and KAS. It returns nil for paths
// it does not know.
func (s *Server) serveKASControl(r *http.Request, segs []string) *response {
	m := r.Method
	switch {
	case len(segs) == 3 && segs[0] == "agents" && segs[2] == "connections":
		id, err := parseControlID(segs[1], "agent")
		if err != nil {
			return err
		}
		switch m {
		case http.MethodGet:
			conns := s.AgentConnections(id)
			if _, ok := s.Agent(id); !ok {
				return controlError(http.StatusNotFound, fmt.Sprintf("agent %d: not found", id))
			}
			if conns == nil {
				conns = []AgentConnection{}
			}
			return jsonResponse(http.StatusOK, conns)
		case http.MethodPost:
			var body controlConnect
			if err := decodeControlBody(r, &body, false); err != nil {
				return controlError(http.StatusBadRequest, err.Error())
			}
			c, cerr := s.ConnectAgent(id, body)
			if cerr != nil {
				return controlFailure(cerr)
			}
			return jsonResponse(http.StatusCreated, c)
		case http.MethodDelete:
			if _, derr := s.DisconnectAgent(id, 0); derr != nil {
				return controlFailure(derr)
			}
			return noContent()
		}
		return controlMethodNotAllowed()
	case len(segs) == 4 && segs[0] == "agents" && segs[2] == "connections":
		if m != http.MethodDelete {
			return controlMethodNotAllowed()
		}
		id, err := parseControlID(segs[1], "agent")
		if err != nil {
			return err
		}
		connID, err := parseControlID(segs[3], "connection")
		if err != nil {
			return err
		}
		if _, derr := s.DisconnectAgent(id, connID); derr != nil {
			return controlFailure(derr)
		}
		return noContent()
	case len(segs) == 1 && segs[0] == "kas":
		if m != http.MethodPut {
			return controlMethodNotAllowed()
		}
		var body struct {
			Reachable *bool `json:"reachable"`
		}
		if err := decodeControlBody(r, &body, true); err != nil {
			return controlError(http.StatusBadRequest, err.Error())
		}
		if body.Reachable == nil {
			return controlError(http.StatusBadRequest, "reachable (true or false) is required")
		}
		s.SetKASReachable(*body.Reachable)
		return jsonResponse(http.StatusOK, map[string]bool{"reachable": *body.Reachable})
	}
	return nil
}

// parseControlID reads a positive integer id of a control path.
func parseControlID(seg, what string) (int64, *response) {
	id, err := strconv.ParseInt(seg, 10, 64)
	if err != nil || id <= 0 {
		return 0, controlError(http.StatusBadRequest, what+" id must be a positive integer")
	}
	return id, nil
}
