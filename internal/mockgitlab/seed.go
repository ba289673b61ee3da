package mockgitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Seed is the initial state of a mock server: its users, projects and instance settings.
type Seed struct {
	Users    []SeedUser    `json:"users"`
	Projects []SeedProject `json:"projects"`
	Settings SeedSettings  `json:"settings"`
}

// SeedUser is one user of the mock instance together with the personal access tokens it authenticates with.
type SeedUser struct {
	ID       int64    `json:"id"`
	Username string   `json:"username"`
	Admin    bool     `json:"admin"`
	Tokens   []string `json:"tokens"`
}

// SeedProject is one project of the mock instance. Members maps a username to one of the roles
// guest, reporter, developer, maintainer or owner. When Name is empty the last path segment is used.
type SeedProject struct {
	ID                int64             `json:"id"`
	PathWithNamespace string            `json:"path_with_namespace"`
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	Members           map[string]string `json:"members"` // username -> guest|reporter|developer|maintainer|owner
}

// SeedSettings holds the instance-wide application settings the mock knows about.
type SeedSettings struct {
	// ReceptiveAgents is the receptive_cluster_agents_enabled application setting, which gates the
	// URL-configuration endpoints.
	ReceptiveAgents bool `json:"receptive_agents"`
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

// DefaultSeed returns the seed used when none is given: an admin (root), one user per role that matters
// (maintainer, developer, reporter), a non-member (outsider), and two projects, one of them nested in
// subgroups. Receptive agents are enabled.
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
			{ID: 1, Username: "root", Admin: true, Tokens: []string{"glpat-mock-root-000000000000"}},
			{ID: 2, Username: "maintainer", Tokens: []string{"glpat-mock-maintainer-0000000"}},
			{ID: 3, Username: "developer", Tokens: []string{"glpat-mock-developer-0000000"}},
			{ID: 4, Username: "reporter", Tokens: []string{"glpat-mock-reporter-00000000"}},
			{ID: 5, Username: "outsider", Tokens: []string{"glpat-mock-outsider-00000000"}},
		},
		Projects: []SeedProject{
			{ID: 20, PathWithNamespace: "root/test", Name: "test", Members: members("maintainer")},
			{ID: 21, PathWithNamespace: "infra/platform/clusters", Name: "clusters", Members: members("owner")},
		},
		Settings: SeedSettings{ReceptiveAgents: true},
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
	for _, t := range u.Tokens {
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
