package mockgitlab

import (
	"net/http"
	"strings"
)

// routeKind identifies an API endpoint family.
type routeKind int

// The API routes the mock serves.
const (
	routeUser     routeKind = iota + 1 // /user
	routeProject                       // /projects/:id
	routeAgents                        // /projects/:id/cluster_agents
	routeAgent                         // /projects/:id/cluster_agents/:agent_id
	routeTokens                        // .../:agent_id/tokens
	routeToken                         // .../:agent_id/tokens/:token_id
	routeConfigs                       // .../:agent_id/url_configurations
	routeConfig                        // .../:agent_id/url_configurations/:url_configuration_id
	routeMetadata                      // /metadata
	routeLicense                       // /license (EE)
	routeUserPATs                      // POST /user/personal_access_tokens
	routePATSelf                       // DELETE /personal_access_tokens/self
	routeVersion                       // /version, the deprecated alias of /metadata
	routeFile                          // /projects/:id/repository/files/:file_path
	routeFileRaw                       // /projects/:id/repository/files/:file_path/raw
	routeGraphQL                       // POST /api/graphql (outside /api/v4)
)

// route is a matched API route. Segments are kept escaped; handlers decode them.
type route struct {
	kind       routeKind
	projectSeg string // the :id segment
	rest       string // the escaped path after the :id segment, used for redirects of moved projects
	agentSeg   string // the :agent_id segment
	childSeg   string // the :token_id or :url_configuration_id segment
	fileSeg    string // the :file_path segment, escaped
}

// matchRoute matches a method and an escaped path relative to /api/v4. As in GitLab, each parameter is
// exactly one non-empty segment, so an unencoded "/" inside a project path matches nothing, and a known
// path with an unsupported method is an unknown route too. It returns nil when nothing matches.
func matchRoute(method, escapedPath string) *route {
	if !strings.HasPrefix(escapedPath, "/") {
		return nil
	}
	segs := strings.Split(escapedPath[1:], "/")
	for _, s := range segs {
		if s == "" {
			return nil
		}
	}
	get, post, del := method == http.MethodGet, method == http.MethodPost, method == http.MethodDelete
	put := method == http.MethodPut
	if len(segs) == 1 && segs[0] == "user" && get {
		return &route{kind: routeUser}
	}
	if len(segs) == 1 && segs[0] == "metadata" && get {
		return &route{kind: routeMetadata}
	}
	if len(segs) == 1 && segs[0] == "version" && get {
		return &route{kind: routeVersion}
	}
	if len(segs) == 1 && segs[0] == "license" && get {
		return &route{kind: routeLicense}
	}
	if len(segs) == 2 && segs[0] == "user" && segs[1] == "personal_access_tokens" && post {
		return &route{kind: routeUserPATs}
	}
	if len(segs) == 2 && segs[0] == "personal_access_tokens" && segs[1] == "self" && del {
		return &route{kind: routePATSelf}
	}
	if len(segs) < 2 || segs[0] != "projects" {
		return nil
	}
	rt := &route{projectSeg: segs[1], rest: escapedPath[len("/projects/")+len(segs[1]):]}
	switch {
	case len(segs) == 2 && get:
		rt.kind = routeProject
	case len(segs) >= 5 && segs[2] == "repository" && segs[3] == "files":
		switch {
		case len(segs) == 5 && (get || post || put || del):
			rt.kind, rt.fileSeg = routeFile, segs[4]
		case len(segs) == 6 && segs[5] == "raw" && get:
			rt.kind, rt.fileSeg = routeFileRaw, segs[4]
		default:
			return nil
		}
	case len(segs) < 3 || segs[2] != "cluster_agents":
		return nil
	case len(segs) == 3 && (get || post):
		rt.kind = routeAgents
	case len(segs) == 4 && (get || del):
		rt.kind, rt.agentSeg = routeAgent, segs[3]
	case len(segs) == 5 && segs[4] == "tokens" && (get || post):
		rt.kind, rt.agentSeg = routeTokens, segs[3]
	case len(segs) == 6 && segs[4] == "tokens" && (get || del):
		rt.kind, rt.agentSeg, rt.childSeg = routeToken, segs[3], segs[5]
	case len(segs) == 5 && segs[4] == "url_configurations" && (get || post):
		rt.kind, rt.agentSeg = routeConfigs, segs[3]
	case len(segs) == 6 && segs[4] == "url_configurations" && (get || del):
		rt.kind, rt.agentSeg, rt.childSeg = routeConfig, segs[3], segs[5]
	default:
		return nil
	}
	return rt
}
