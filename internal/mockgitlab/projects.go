package mockgitlab

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// numericIDRegexp is GitLab's test for a numeric project id (an optional leading "-" included).
var numericIDRegexp = regexp.MustCompile(`^-?[0-9]+$`)

// resolveProject finds the project named by the :id segment and checks that the user may read it:
//   - digits: by numeric id;
//   - containing "/": full path exactly, then case-insensitively, then through redirect routes left by
//     renames (GET answers 301 to /api/v4/projects/<id>..., other methods 405);
//   - anything else, or a project the user cannot read: 404 Project Not Found (never 403).
func (s *Server) resolveProject(req *apiRequest) (*project, *response) {
	idStr, err := url.PathUnescape(req.route.projectSeg)
	if err != nil {
		return nil, errProjectNotFound()
	}
	var p *project
	moved := false
	switch {
	case numericIDRegexp.MatchString(idStr):
		if id, err := strconv.ParseInt(idStr, 10, 64); err == nil {
			p = s.st.projects[id]
		}
	case strings.Contains(idStr, "/"):
		p = s.st.projectByPath(idStr)
		if p == nil {
			if id, ok := s.st.redirects[strings.ToLower(idStr)]; ok {
				p, moved = s.st.projects[id], true
			}
		}
	}
	if p == nil || !s.st.canRead(req.user, p) {
		return nil, errProjectNotFound()
	}
	if moved {
		if req.method != http.MethodGet {
			return nil, errMovedNonGet()
		}
		// An absolute URL, the same route with the project's ID, built from the request's own URL
		// (lib/api/helpers.rb url_with_project_id, Rack::Request#url); the body has no final period
		// (lib/api/api.rb MovedPermanentlyError).
		scheme := "http"
		if req.r.TLS != nil {
			scheme = "https"
		}
		loc := scheme + "://" + req.r.Host + apiPrefix + "/projects/" + strconv.FormatInt(p.id, 10) + req.route.rest
		if q := req.r.URL.RawQuery; q != "" {
			loc += "?" + q
		}
		h := http.Header{}
		h.Set("Location", loc)
		h.Set("Content-Type", "text/plain")
		return nil, &response{status: http.StatusMovedPermanently, header: h,
			body: []byte("This resource has been moved permanently to " + loc)}
	}
	return p, nil
}

// projectIdentityJSON is GitLab's ProjectIdentity entity, used as an agent's config_project.
type projectIdentityJSON struct {
	ID                int64  `json:"id"`
	Description       string `json:"description"`
	Name              string `json:"name"`
	NameWithNamespace string `json:"name_with_namespace"`
	Path              string `json:"path"`
	PathWithNamespace string `json:"path_with_namespace"`
	CreatedAt         string `json:"created_at"`
}

// identityJSON renders the ProjectIdentity of p.
func (st *store) identityJSON(p *project) projectIdentityJSON {
	return projectIdentityJSON{
		ID:                p.id,
		Description:       p.description,
		Name:              p.name,
		NameWithNamespace: st.nameWithNamespace(p),
		Path:              p.path(),
		PathWithNamespace: p.fullPath,
		CreatedAt:         formatTime(p.createdAt),
	}
}

// projectJSON is the subset of GET /projects/:id the mock answers with.
type projectJSON struct {
	projectIdentityJSON
	// DefaultBranch is shown only to callers who may read the repository (read_code), as GitLab's
	// BasicProjectDetails entity does; the key is absent otherwise.
	DefaultBranch *string `json:"default_branch,omitempty"`
	Visibility    string  `json:"visibility"`
	WebURL        string  `json:"web_url"`
}

// getProject serves GET /projects/:id.
func (s *Server) getProject(req *apiRequest) *response {
	p, errResp := s.resolveProject(req)
	if errResp != nil {
		return errResp
	}
	var defaultBranch *string
	if s.st.canReadCode(req.user, p) {
		defaultBranch = &p.repo.defaultBranch
	}
	return jsonResponse(http.StatusOK, projectJSON{
		projectIdentityJSON: s.st.identityJSON(p),
		DefaultBranch:       defaultBranch,
		Visibility:          p.visibility,
		WebURL:              requestBase(req.r) + "/" + p.fullPath,
	})
}

// requestBase is scheme://host of the request, used for absolute URLs.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
