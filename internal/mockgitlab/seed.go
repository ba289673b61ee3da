package mockgitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Seed is the initial state of a mock server: its users, projects and instance settings.
type Seed struct {
	Users    []SeedUser    `json:"users"`
	Projects []SeedProject `json:"projects"`
	Settings SeedSettings  `json:"settings"`
}

// SeedUser is one user of the mock instance together with the personal access tokens it authenticates with.
// Tokens have the api scope and never expire; AccessTokens describes tokens with other scopes or states.
// Name is the display name (GitLab's "Administrator" for root); when empty the username is used.
type SeedUser struct {
	ID           int64             `json:"id"`
	Username     string            `json:"username"`
	Name         string            `json:"name,omitempty"`
	Admin        bool              `json:"admin"`
	Tokens       []string          `json:"tokens"`
	AccessTokens []SeedAccessToken `json:"access_tokens,omitempty"`
}

// SeedAccessToken is a personal access token with explicit scopes and state.
type SeedAccessToken struct {
	Token string `json:"token"`
	// Scopes are GitLab token scopes: "api" allows every request, "read_api" only GET and HEAD;
	// "read_user" and "ai_features" only GET /metadata (and /version) and /user; "read_repository" and
	// "k8s_proxy" none of the mock's API. When empty, "api".
	Scopes []string `json:"scopes,omitempty"`
	// State is "active" (the default), "expired" or "revoked". Expired and revoked tokens get GitLab's
	// 401 invalid_token answer.
	State string `json:"state,omitempty"`
}

// knownScopes are the personal access token scopes a seeded token may have.
var knownScopes = map[string]bool{
	"api": true, "read_api": true, "read_user": true, "read_repository": true, "k8s_proxy": true, "ai_features": true,
}

// Access token states.
const (
	accessTokenActive  = "active"
	accessTokenExpired = "expired"
	accessTokenRevoked = "revoked"
)

// SeedProject is one project of the mock instance. Members maps a username to one of the roles
// guest, reporter, developer, maintainer or owner. When Name is empty the last path segment is used.
// NamespaceName is the display name of the namespace (GitLab's human_name), used in name_with_namespace:
// when empty, a personal namespace (the path of a seeded user) takes that user's display name, and a group
// its path segments joined by " / ".
type SeedProject struct {
	ID                int64             `json:"id"`
	PathWithNamespace string            `json:"path_with_namespace"`
	Name              string            `json:"name"`
	NamespaceName     string            `json:"namespace_name,omitempty"`
	Description       string            `json:"description"`
	Members           map[string]string `json:"members"` // username -> guest|reporter|developer|maintainer|owner
	// Visibility is "private" (the default), "internal" or "public". Any authenticated user may read an
	// internal or public project, but not its agents: those need the Developer role, so a non-member gets
	// 404 for agents and tokens that exist, as in GitLab.
	Visibility string `json:"visibility,omitempty"`
	// EmptyRepository gives the project a repository without commits: its default branch main does not
	// exist yet, and, under GitLab's default branch protection, only Maintainers and above may push the
	// first commit (of any branch). Otherwise the repository starts with a README.md on main.
	EmptyRepository bool `json:"empty_repository,omitempty"`
}

// SeedSettings says which GitLab the mock plays and holds the instance-wide application settings it
// knows about. Empty fields take the defaults given with each.
type SeedSettings struct {
	// ReceptiveAgents is the receptive_cluster_agents_enabled application setting, which gates the
	// URL-configuration endpoints. Off by default, as in GitLab.
	ReceptiveAgents bool `json:"receptive_agents"`
	// Edition is "ee" (Enterprise Edition, the default) or "ce" (Community Edition). CE has no
	// URL-configuration routes and no is_receptive on agents.
	Edition string `json:"edition,omitempty"`
	// Licence is the EE licence: "free", "premium" or "ultimate" (the default on EE; CE is always
	// "free"). URL configurations need Ultimate.
	Licence string `json:"licence,omitempty"`
	// CertificateEncoding is how URL configurations take and return client_cert and ca_cert (and take
	// client_key): "pem" (raw PEM, the default, as GitLab 19.x) or "base64" (Base64-encoded PEM, as
	// GitLab EE 17.x).
	CertificateEncoding string `json:"certificate_encoding,omitempty"`
	// GitLabVersion is the version reported by GET /metadata, e.g. "17.6.2" (default
	// DefaultGitLabVersion). Before 17.4 there are no URL-configuration routes and no is_receptive.
	GitLabVersion string `json:"gitlab_version,omitempty"`
	// PersonalAccessTokensRestricted keeps users from creating personal access tokens, as an instance or an
	// enterprise group that disables them does: POST /user/personal_access_tokens answers 422 Not
	// permitted to create. Off by default.
	PersonalAccessTokensRestricted bool `json:"personal_access_tokens_restricted,omitempty"`
	// KASDisabled switches the agent server (KAS) off, as gitlab_kas['enable'] = false does: GET
	// /metadata then answers kas.enabled false with null addresses and version. KAS is on by default, as
	// in the Linux package.
	KASDisabled bool `json:"kas_disabled,omitempty"`
	// KASExternalURL is the address agentk dials (gitlab_kas['external_url']); by default the Linux
	// package's ws(s)://<the mock's host>/-/kubernetes-agent/.
	KASExternalURL string `json:"kas_external_url,omitempty"`
	// KASExternalK8sProxyURL is the Kubernetes API proxy URL (gitlab_kas['external_k8s_proxy_url']); by
	// default derived from KASExternalURL as GitLab does (KASProxyPath on the mock's own host).
	KASExternalK8sProxyURL string `json:"kas_external_k8s_proxy_url,omitempty"`
	// KASVersion is the version of KAS; by default the GitLab version.
	KASVersion string `json:"kas_version,omitempty"`
}

// Editions, licences and certificate encodings of SeedSettings.
const (
	EditionCE            = "ce"
	EditionEE            = "ee"
	LicenceFree          = "free"
	LicencePremium       = "premium"
	LicenceUltimate      = "ultimate"
	EncodingPEM          = "pem"
	EncodingBase64       = "base64"
	DefaultGitLabVersion = "19.0.0"
)

// normalized returns the settings with every default filled in. It assumes validated settings.
func (s SeedSettings) normalized() SeedSettings {
	if s.Edition == "" {
		s.Edition = EditionEE
	}
	if s.Licence == "" {
		s.Licence = LicenceUltimate
		if s.Edition == EditionCE {
			s.Licence = LicenceFree
		}
	}
	if s.CertificateEncoding == "" {
		s.CertificateEncoding = EncodingPEM
	}
	if s.GitLabVersion == "" {
		s.GitLabVersion = DefaultGitLabVersion
	}
	return s
}

// validateSettings checks the values of the settings.
func validateSettings(s SeedSettings) error {
	switch s.Edition {
	case "", EditionCE, EditionEE:
	default:
		return fmt.Errorf("settings: edition %q is not one of %q, %q", s.Edition, EditionCE, EditionEE)
	}
	switch s.Licence {
	case "", LicenceFree:
	case LicencePremium, LicenceUltimate:
		if s.Edition == EditionCE {
			return fmt.Errorf("settings: licence %q needs edition %q (Community Edition is always free)", s.Licence, EditionEE)
		}
	default:
		return fmt.Errorf("settings: licence %q is not one of %q, %q, %q", s.Licence, LicenceFree, LicencePremium, LicenceUltimate)
	}
	switch s.CertificateEncoding {
	case "", EncodingPEM, EncodingBase64:
	default:
		return fmt.Errorf("settings: certificate_encoding %q is not one of %q, %q", s.CertificateEncoding, EncodingPEM, EncodingBase64)
	}
	for name, v := range map[string]string{"kas_external_url": s.KASExternalURL, "kas_external_k8s_proxy_url": s.KASExternalK8sProxyURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || u.Scheme == "" {
			return fmt.Errorf("settings: %s %q is not an absolute URL such as wss://kas.example.com", name, v)
		}
	}
	if s.GitLabVersion != "" {
		if _, _, ok := parseVersion(s.GitLabVersion); !ok {
			return fmt.Errorf("settings: gitlab_version %q is not a version such as \"17.6.2\"", s.GitLabVersion)
		}
	}
	return nil
}

// parseVersion reads the major and minor numbers of a version "MAJOR.MINOR[.PATCH]".
func parseVersion(v string) (major, minor int, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, false
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strconv.Itoa(n) != p {
			return 0, 0, false
		}
		nums[i] = n
	}
	return nums[0], nums[1], true
}

// Access levels as GitLab numbers them.
const (
	accessNone       = 0
	accessGuest      = 10
	accessReporter   = 20
	accessDeveloper  = 30
	accessMaintainer = 40
	accessOwner      = 50
)

// roleLevels maps the role names accepted in seeds and SetMember to access levels.
var roleLevels = map[string]int{
	"guest":      accessGuest,
	"reporter":   accessReporter,
	"developer":  accessDeveloper,
	"maintainer": accessMaintainer,
	"owner":      accessOwner,
}

// Extra tokens of the default seed's maintainer: one with the read_api scope only, one expired, one revoked.
const (
	DefaultReadAPIToken = "glpat-mock-maintainer-readapi"
	DefaultExpiredToken = "glpat-mock-maintainer-expired"
	DefaultRevokedToken = "glpat-mock-maintainer-revoked"
)

// DefaultSeed returns the seed used when none is given: an admin (root, "Administrator"), one user per role
// that matters (maintainer, developer, reporter), a non-member (outsider), and two projects, one of them
// nested in subgroups. It plays GitLab EE Ultimate, PEM certificates, with receptive agents switched on
// (GitLab's default is off).
func DefaultSeed() Seed {
	members := func(maintainerRole string) map[string]string {
		return map[string]string{
			"maintainer": maintainerRole,
			"developer":  "developer",
			"reporter":   "reporter",
		}
	}
	return Seed{
		Users: []SeedUser{
			{ID: 1, Username: "root", Name: "Administrator", Admin: true, Tokens: []string{"glpat-mock-root-000000000000"}},
			{ID: 2, Username: "maintainer", Name: "Maintainer", Tokens: []string{"glpat-mock-maintainer-0000000"},
				AccessTokens: []SeedAccessToken{
					{Token: DefaultReadAPIToken, Scopes: []string{"read_api"}},
					{Token: DefaultExpiredToken, State: accessTokenExpired},
					{Token: DefaultRevokedToken, State: accessTokenRevoked},
				}},
			{ID: 3, Username: "developer", Name: "Developer", Tokens: []string{"glpat-mock-developer-0000000"}},
			{ID: 4, Username: "reporter", Name: "Reporter", Tokens: []string{"glpat-mock-reporter-00000000"}},
			{ID: 5, Username: "outsider", Name: "Outsider", Tokens: []string{"glpat-mock-outsider-00000000"}},
		},
		Projects: []SeedProject{
			{ID: 20, PathWithNamespace: "root/test", Name: "test", Members: members("maintainer")},
			{ID: 21, PathWithNamespace: "infra/platform/clusters", Name: "clusters", NamespaceName: "Infra / Platform",
				Members: members("owner")},
		},
		Settings: SeedSettings{
			Edition:             EditionEE,
			Licence:             LicenceUltimate,
			ReceptiveAgents:     true,
			CertificateEncoding: EncodingPEM,
		},
	}
}

// ParseSeed decodes a seed from JSON. Unknown fields and trailing data are rejected, and the result is
// validated (positive unique ids, unique usernames, tokens and paths, known roles and members).
func ParseSeed(data []byte) (Seed, error) {
	var seed Seed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return Seed{}, fmt.Errorf("decoding seed: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Seed{}, errors.New("decoding seed: unexpected data after the JSON object")
	}
	if err := validateSeed(seed); err != nil {
		return Seed{}, err
	}
	return seed, nil
}

// validateSeed checks a seed for consistency.
func validateSeed(seed Seed) error {
	if err := validateSettings(seed.Settings); err != nil {
		return fmt.Errorf("seed %w", err)
	}
	userIDs := map[int64]bool{}
	usernames := map[string]bool{}
	tokens := map[string]bool{}
	for i, u := range seed.Users {
		if err := validateUser(u, userIDs, usernames, tokens); err != nil {
			return fmt.Errorf("seed users[%d]: %w", i, err)
		}
		userIDs[u.ID] = true
		usernames[strings.ToLower(u.Username)] = true
		for _, t := range u.Tokens {
			tokens[t] = true
		}
		for _, t := range u.AccessTokens {
			tokens[t.Token] = true
		}
	}
	projectIDs := map[int64]bool{}
	paths := map[string]bool{}
	for i, p := range seed.Projects {
		if p.ID <= 0 {
			return fmt.Errorf("seed projects[%d]: id must be a positive integer, got %d", i, p.ID)
		}
		if projectIDs[p.ID] {
			return fmt.Errorf("seed projects[%d]: duplicate project id %d", i, p.ID)
		}
		projectIDs[p.ID] = true
		if err := validateProjectPath(p.PathWithNamespace); err != nil {
			return fmt.Errorf("seed projects[%d]: %w", i, err)
		}
		lower := strings.ToLower(p.PathWithNamespace)
		if paths[lower] {
			return fmt.Errorf("seed projects[%d]: duplicate path_with_namespace %q", i, p.PathWithNamespace)
		}
		paths[lower] = true
		switch p.Visibility {
		case "", "private", "internal", "public":
		default:
			return fmt.Errorf("seed projects[%d]: visibility %q (want private, internal or public)", i, p.Visibility)
		}
		for username, role := range p.Members {
			if !usernames[strings.ToLower(username)] {
				return fmt.Errorf("seed projects[%d]: member %q is not a seeded user", i, username)
			}
			if _, ok := roleLevels[role]; !ok {
				return fmt.Errorf("seed projects[%d]: member %q has unknown role %q (want guest, reporter, developer, maintainer or owner)", i, username, role)
			}
		}
	}
	return nil
}

// validateUser checks one user against those already accepted.
func validateUser(u SeedUser, ids map[int64]bool, usernames, tokens map[string]bool) error {
	if u.ID <= 0 {
		return fmt.Errorf("id must be a positive integer, got %d", u.ID)
	}
	if ids[u.ID] {
		return fmt.Errorf("duplicate user id %d", u.ID)
	}
	if strings.TrimSpace(u.Username) == "" || strings.ContainsAny(u.Username, "/ ") {
		return fmt.Errorf("invalid username %q", u.Username)
	}
	if usernames[strings.ToLower(u.Username)] {
		return fmt.Errorf("duplicate username %q", u.Username)
	}
	seen := map[string]bool{}
	all := append([]string(nil), u.Tokens...)
	for _, t := range u.AccessTokens {
		all = append(all, t.Token)
		for _, scope := range t.Scopes {
			if !knownScopes[scope] {
				return fmt.Errorf("user %q has a token with unknown scope %q (want api, read_api, read_user, read_repository, k8s_proxy or ai_features)", u.Username, scope)
			}
		}
		switch t.State {
		case "", accessTokenActive, accessTokenExpired, accessTokenRevoked:
		default:
			return fmt.Errorf("user %q has a token with unknown state %q (want active, expired or revoked)", u.Username, t.State)
		}
	}
	for _, t := range all {
		if t == "" {
			return fmt.Errorf("user %q has an empty token", u.Username)
		}
		if tokens[t] || seen[t] {
			return fmt.Errorf("user %q has a token that is already in use", u.Username)
		}
		seen[t] = true
	}
	return nil
}

// validateProjectPath checks that a full project path has a namespace and no empty segments.
func validateProjectPath(p string) error {
	segs := strings.Split(p, "/")
	if len(segs) < 2 {
		return fmt.Errorf("path_with_namespace %q must contain a namespace (e.g. group/project)", p)
	}
	for _, s := range segs {
		if s == "" || strings.TrimSpace(s) != s {
			return fmt.Errorf("path_with_namespace %q has an empty or padded segment", p)
		}
	}
	return nil
}
