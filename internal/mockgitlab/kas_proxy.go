package mockgitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// A stand-in for KAS's Kubernetes API proxy, served at KASProxyPath (the proxy URL GET /metadata gives
// by default), for a user who authenticates with a personal access token:
// `Authorization: Bearer pat:<agent ID>:<token>`.
//
// As KAS does (gitlab-agent internal/module/kubernetes_api/server/proxy.go), it parses the header, then
// asks GitLab (POST /api/v4/internal/kubernetes/authorize_proxy_user, lib/api/internal/kubernetes.rb and
// app/services/clusters/agents/authorize_proxy_user_service.rb) whether the token may use the agent:
//   - the token must be known (else GitLab answers 400, which KAS turns into 500), live (401) and have
//     the k8s_proxy scope (403); the agent must exist (404);
//   - the agent's configuration must have `user_access` with exactly one `access_as`, and the user must
//     hold the Developer role or higher in one of its `projects`, or in a project under one of its
//     `groups`; administrators match everything (403 otherwise, with GitLab's messages). Entries past the
//     500th, or outside the agent project's top-level group, are dropped as GitLab drops them.
//
// KAS answers GitLab's 401, 403 and 404 with 401 and `Gitlab-Unauthorized: true`, anything else with 500;
// its error bodies are Kubernetes Status objects. Once authorized, the request goes through the agent: the
// mock answers GET /version and GET /api/v1/namespaces as a cluster would for the agent's service
// account, which may only read; other paths get Kubernetes' 404, other methods its 405 or an RBAC 403.
//
// Where the mock is simpler than GitLab:
//   - GitLab authorizes from the configuration KAS last sent it, which KAS reads from the default branch
//     while an agentk is connected; the mock reads the committed file at each request. A file that does
//     not parse grants nothing.
//   - KAS caches authorizations (a minute for success, 10 seconds for errors): the mock does not, so a
//     revoked token is refused at once, where GitLab may accept it for up to a minute.
//   - With no agentk connected, KAS waits for one until the request times out (not pinned down); the mock
//     answers 503 at once.

// userAccessLimit is how many projects and how many groups of user_access GitLab keeps
// (AUTHORIZED_ENTITY_LIMIT).
const userAccessLimit = 500

// proxyStatus is a Kubernetes Status error of KAS.
type proxyStatus struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Metadata   map[string]string `json:"metadata"`
	Status     string            `json:"status"`
	Message    string            `json:"message"`
	Reason     string            `json:"reason"`
	Code       int               `json:"code"`
}

// proxyError builds a Kubernetes Status answer.
func proxyError(code int, reason, message string) *response {
	return jsonResponse(code, proxyStatus{Kind: "Status", APIVersion: "v1", Metadata: map[string]string{},
		Status: "Failure", Message: message, Reason: reason, Code: code})
}

// proxyUnauthorized is KAS's 401, with the detail after "Unauthorized" when there is one.
func proxyUnauthorized(detail string) *response {
	msg := "GitLab Agent Server: Unauthorized"
	if detail != "" {
		msg += ": " + detail
	}
	resp := proxyError(http.StatusUnauthorized, "Unauthorized", msg)
	resp.header.Set("Gitlab-Unauthorized", "true")
	return resp
}

// serveK8sProxy handles a request to the Kubernetes API proxy and records it in the request log.
func (s *Server) serveK8sProxy(r *http.Request) *response {
	received := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := s.k8sProxy(r, strings.TrimPrefix(r.URL.EscapedPath(), KASProxyPath))
	s.requests = append(s.requests, LoggedRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Status: resp.status, At: received})
	return resp
}

// k8sProxy authenticates, authorizes and answers a proxied request; path is the Kubernetes API path.
func (s *Server) k8sProxy(r *http.Request, path string) *response {
	if s.settings.KASDisabled {
		return errRouteNotFound()
	}
	agentID, secret, refused := parseProxyAuthorization(r.Header.Get("Authorization"))
	if refused != nil {
		return refused
	}
	if secret == "" { // a CI job token: the mock runs no jobs, and GitLab answers 401 for unknown ones
		return proxyUnauthorized("")
	}
	status, a := s.authorizeProxyUser(agentID, secret)
	switch status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return proxyUnauthorized("")
	default:
		return proxyError(http.StatusInternalServerError, "InternalError", "GitLab Agent Server: Failed to authorize user session")
	}
	if !s.st.agentConnected(a.id) {
		return proxyError(http.StatusServiceUnavailable, "ServiceUnavailable",
			fmt.Sprintf("GitLab Agent Server: no agentk of agent %d is connected", a.id))
	}
	resp := clusterAnswer(r.Method, path, a)
	resp.header.Set("Via", "gRPC/1.0 gitlab-agent")
	return resp
}

// parseProxyAuthorization reads `Bearer pat:<agent ID>:<token>` (or `ci:…`) as KAS does. It returns the
// agent ID and the token, an empty token for a CI job token, or KAS's 401 for a malformed header.
func parseProxyAuthorization(header string) (int64, string, *response) {
	if header == "" {
		return 0, "", proxyUnauthorized("no valid credentials provided")
	}
	value, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return 0, "", proxyUnauthorized("Authorization header: expecting Bearer token")
	}
	kind, rest, ok := strings.Cut(value, ":")
	if !ok {
		return 0, "", proxyUnauthorized("Authorization header: invalid value")
	}
	if kind != "ci" && kind != "pat" {
		return 0, "", proxyUnauthorized("Authorization header: unknown token type")
	}
	idText, token, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", proxyUnauthorized("Authorization header: invalid value")
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return 0, "", proxyUnauthorized("Authorization header: failed to parse: " + err.Error())
	}
	if token == "" {
		return 0, "", proxyUnauthorized("Authorization header: empty token")
	}
	if kind == "ci" {
		return id, "", nil
	}
	return id, token, nil
}

// authorizeProxyUser is GitLab's authorize_proxy_user for a personal access token: 200 with the agent, or
// the status GitLab answers.
func (s *Server) authorizeProxyUser(agentID int64, secret string) (int, *agent) {
	u := s.st.userByToken[secret]
	if u == nil {
		return http.StatusBadRequest, nil // "Unable to get user from request data"
	}
	scopes := []string{"api"}
	if limits, ok := s.st.tokenLimits[secret]; ok {
		if limits.State == accessTokenExpired || limits.State == accessTokenRevoked {
			return http.StatusUnauthorized, nil
		}
		if len(limits.Scopes) > 0 {
			scopes = limits.Scopes
		}
	}
	if t := s.st.pats.bySecret[secret]; t != nil {
		if t.state(s.timestamp()) != accessTokenActive {
			return http.StatusUnauthorized, nil
		}
		scopes = t.scopes
	}
	if !slices.Contains(scopes, scopeK8sProxy) {
		return http.StatusForbidden, nil
	}
	a := s.st.agents[agentID]
	if a == nil {
		return http.StatusNotFound, nil
	}
	if !s.userAccessAllows(a, u) {
		return http.StatusForbidden, nil // with GitLab's reason, which KAS does not pass on
	}
	return http.StatusOK, a
}

// userAccessConfig is the part of an agent configuration file GitLab keeps for the Kubernetes proxy.
type userAccessConfig struct {
	UserAccess *struct {
		AccessAs map[string]json.RawMessage `json:"access_as"`
		Projects []struct {
			ID string `json:"id"`
		} `json:"projects"`
		Groups []struct {
			ID string `json:"id"`
		} `json:"groups"`
	} `json:"user_access"`
}

// agentConfigFile is where an agent's configuration lives in its project.
func agentConfigFile(agentName string) string {
	return ".gitlab/agents/" + agentName + "/config.yaml"
}

// userAccessAllows reports whether the agent's user_access lets the user through. GitLab refuses with
// 403 when the configuration has no `user_access`, when `access_as` is missing or has more than one key,
// and when the user is not a member of its projects or groups (AuthorizeProxyUserService's messages).
func (s *Server) userAccessAllows(a *agent, u *user) bool {
	var cfg userAccessConfig
	if data, ok := s.st.fileAt(a.projectID, agentConfigFile(a.name)); ok {
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			cfg = userAccessConfig{} // KAS rejects the file: nothing reaches GitLab
		}
	}
	ua := cfg.UserAccess
	switch {
	case ua == nil || len(ua.AccessAs) != 1:
		return false
	case u.admin:
		return true
	}
	agentProject := s.st.projects[a.projectID]
	root := strings.SplitN(agentProject.fullPath, "/", 2)[0]
	userNamespace := s.st.usersByName[strings.ToLower(root)] != nil
	inRoot := func(path string) bool {
		return strings.EqualFold(strings.SplitN(path, "/", 2)[0], root)
	}
	for i, entry := range ua.Projects {
		if i == userAccessLimit {
			break
		}
		if p := s.st.projectByPath(entry.ID); p != nil && inRoot(p.fullPath) && s.st.accessLevel(u, p) >= accessDeveloper {
			return true
		}
	}
	for i, entry := range ua.Groups {
		if i == userAccessLimit || userNamespace {
			break // a project in a user's namespace can authorize no group
		}
		group := strings.ToLower(strings.Trim(entry.ID, "/"))
		if group == "" || !inRoot(group) {
			continue
		}
		for _, p := range s.st.projects {
			if strings.HasPrefix(strings.ToLower(p.fullPath), group+"/") && s.st.accessLevel(u, p) >= accessDeveloper {
				return true
			}
		}
	}
	return false
}

// clusterVersion is what the mock cluster answers to GET /version.
var clusterVersion = map[string]string{
	"major": "1", "minor": "33", "gitVersion": "v1.33.1", "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
	"gitTreeState": "clean", "buildDate": "2025-05-15T08:19:08Z", "goVersion": "go1.24.2", "compiler": "gc",
	"platform": "linux/amd64",
}

// clusterAnswer is the cluster's answer, through the agent, for the agent's service account.
func clusterAnswer(method, path string, a *agent) *response {
	read := method == http.MethodGet || method == http.MethodHead
	switch path {
	case "/version":
		if !read {
			return proxyError(http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource")
		}
		return jsonResponse(http.StatusOK, clusterVersion)
	case "/api/v1/namespaces":
		if !read {
			verb := map[string]string{http.MethodPost: "create", http.MethodDelete: "deletecollection"}[method]
			if verb == "" {
				return proxyError(http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource")
			}
			return proxyError(http.StatusForbidden, "Forbidden", fmt.Sprintf(
				`namespaces is forbidden: User "system:serviceaccount:gitlab-agent-%s:%s" cannot %s resource "namespaces" in API group "" at the cluster scope`,
				a.name, a.name, verb))
		}
		return jsonResponse(http.StatusOK, namespaceList(a))
	}
	return proxyError(http.StatusNotFound, "NotFound", "the server could not find the requested resource")
}

// namespaceList is the mock cluster's namespaces: Kubernetes' own and the agent's.
func namespaceList(a *agent) map[string]any {
	names := []string{"default", "gitlab-agent-" + a.name, "kube-node-lease", "kube-public", "kube-system"}
	items := make([]map[string]any, len(names))
	for i, n := range names {
		items[i] = map[string]any{
			"metadata": map[string]any{"name": n, "labels": map[string]string{"kubernetes.io/metadata.name": n}},
			"spec":     map[string]any{"finalizers": []string{"kubernetes"}},
			"status":   map[string]string{"phase": "Active"},
		}
	}
	return map[string]any{"kind": "NamespaceList", "apiVersion": "v1", "metadata": map[string]string{"resourceVersion": "1"}, "items": items}
}
