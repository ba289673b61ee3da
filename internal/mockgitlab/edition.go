package mockgitlab

import (
	"net/http"
	"time"
)

// The GitLab the mock plays (SeedSettings) decides which routes exist and what some answers hold:
//   - Community Edition has no URL-configuration routes (an unknown route: {"error":"404 Not Found"})
//     and its agents have no is_receptive;
//   - on Enterprise Edition, URL configurations need an Ultimate licence and the
//     receptive_cluster_agents_enabled setting, else every URL-configuration endpoint answers
//     {"message":"404 Not Found"};
//   - before GitLab 17.4 neither edition has URL configurations or is_receptive;
//   - GET /metadata (15.2+) tells every user the edition (15.6+), the version and KAS (kas.go); GET
//     /license (EE only) tells administrators the licence.

// receptiveAgentsMinor is GitLab 17.4, which brought URL configurations (receptive agents).
const (
	receptiveAgentsMajor = 17
	receptiveAgentsMinor = 4
)

// hasReceptiveAgents reports whether the GitLab played has the URL-configuration API and is_receptive:
// Enterprise Edition 17.4 or later, whatever its licence and settings.
func (s *Server) hasReceptiveAgents() bool {
	if s.settings.Edition != EditionEE {
		return false
	}
	major, minor, _ := parseVersion(s.settings.GitLabVersion)
	return major > receptiveAgentsMajor || (major == receptiveAgentsMajor && minor >= receptiveAgentsMinor)
}

// serves reports whether the GitLab played has routes of this kind.
func (s *Server) serves(kind routeKind) bool {
	switch kind {
	case routeConfigs, routeConfig:
		return s.hasReceptiveAgents()
	case routeLicense:
		return s.settings.Edition == EditionEE
	case routeUserPATs:
		return s.versionAtLeast(userPATsSince)
	case routeMetadata:
		return s.versionAtLeast(metadataSince)
	}
	return true
}

// urlConfigurationsGated reports whether the licence or the instance setting closes the
// URL-configuration endpoints (404 {"message":"404 Not Found"}).
func (s *Server) urlConfigurationsGated() bool {
	return s.settings.Licence != LicenceUltimate || !s.settings.ReceptiveAgents
}

// renderAgent is the Agent entity of the GitLab played: with is_receptive on EE 17.4 and later.
func (s *Server) renderAgent(a *agent) agentJSON {
	out := s.st.renderAgent(a)
	if !s.hasReceptiveAgents() {
		out.IsReceptive = nil
	}
	return out
}

// licenseJSON is GET /license's answer, GitLab's GitlabLicenseWithActiveUsers entity
// (ee/lib/api/entities/gitlab_license.rb and gitlab_license_with_active_users.rb): a licence of the
// mock's one (fictitious) licensee, issued at the mock clock's present and valid for a year.
type licenseJSON struct {
	ID               int64             `json:"id"`
	Plan             string            `json:"plan"`
	CreatedAt        string            `json:"created_at"`
	StartsAt         string            `json:"starts_at"`
	ExpiresAt        string            `json:"expires_at"`
	HistoricalMax    int64             `json:"historical_max"`
	MaximumUserCount int64             `json:"maximum_user_count"`
	Licensee         map[string]string `json:"licensee"`
	AddOns           map[string]int64  `json:"add_ons"`
	Expired          bool              `json:"expired"`
	Overage          int64             `json:"overage"`
	UserLimit        int64             `json:"user_limit"`
	ActiveUsers      int64             `json:"active_users"`
}

// getLicense serves GET /license (Enterprise Edition) to administrators (others get 403): the licence's
// plan, or null without a licence (the free tier).
func (s *Server) getLicense(req *apiRequest) *response {
	if !req.user.admin {
		return errForbidden()
	}
	if s.settings.Licence == LicenceFree {
		return jsonResponse(http.StatusOK, nil)
	}
	users := int64(len(s.st.users))
	issued := s.timestamp()
	return jsonResponse(http.StatusOK, licenseJSON{
		ID: 1, Plan: s.settings.Licence,
		CreatedAt: formatTime(issued),
		StartsAt:  issued.Format(time.DateOnly), ExpiresAt: issued.AddDate(1, 0, 0).Format(time.DateOnly),
		HistoricalMax: users, MaximumUserCount: users,
		Licensee: map[string]string{"Name": "Mock Licensee", "Company": "Mock", "Email": "licensee@example.com"},
		AddOns:   map[string]int64{}, UserLimit: 100, ActiveUsers: users,
	})
}
