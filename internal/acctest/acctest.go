// Package acctest is the harness shared by the provider's acceptance tests:
// it starts an in-process mock GitLab per test, builds provider factories and
// configurations, and acts on GitLab "out of band".
package acctest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// Tokens and users of mockgitlab.DefaultSeed.
const (
	RootToken       = "glpat-mock-root-000000000000"
	MaintainerToken = "glpat-mock-maintainer-0000000"
	DeveloperToken  = "glpat-mock-developer-0000000"
	ReporterToken   = "glpat-mock-reporter-00000000"
	OutsiderToken   = "glpat-mock-outsider-00000000"

	MaintainerUserID int64 = 2

	// ProjectID and ProjectPath name the seeded project tests use most.
	ProjectID   int64 = 20
	ProjectPath       = "root/test"
	// NestedProjectID and NestedProjectPath name a project in a subgroup.
	NestedProjectID   int64 = 21
	NestedProjectPath       = "infra/platform/clusters"
)

// Env is one mock GitLab serving one test.
type Env struct {
	// Mock is the mock's store and controls.
	Mock *mockgitlab.Server
	// BaseURL is the API URL, ending in /api/v4.
	BaseURL string
}

// New starts a mock GitLab with the default seed for the duration of the test.
func New(t *testing.T) *Env {
	t.Helper()
	return newEnv(t, mockgitlab.DefaultSeed())
}

// NewPlaying starts a mock GitLab with the default seed's users and projects,
// playing the GitLab the settings describe: its edition, licence, version,
// certificate encoding and whether receptive agents are switched on.
func NewPlaying(t *testing.T, settings mockgitlab.SeedSettings) *Env {
	t.Helper()
	seed := mockgitlab.DefaultSeed()
	seed.Settings = settings
	return newEnv(t, seed)
}

// NewWithSeed starts a mock GitLab with the given seed, e.g. the default seed
// with a public project.
func NewWithSeed(t *testing.T, seed mockgitlab.Seed) *Env {
	t.Helper()
	return newEnv(t, seed)
}

func newEnv(t *testing.T, seed mockgitlab.Seed) *Env {
	t.Helper()
	PreCheck(t)
	mock, err := mockgitlab.New(seed)
	if err != nil {
		t.Fatalf("starting the mock GitLab: %v", err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return &Env{Mock: mock, BaseURL: srv.URL + "/api/v4"}
}

// ProviderBlock is a provider configuration for the mock with the given token.
func (e *Env) ProviderBlock(token string) string {
	return fmt.Sprintf(`
provider "gitlabagent" {
  base_url = %q
  token    = %q
  retries  = 1
}
`, e.BaseURL, token)
}

// Config prepends the maintainer's provider block to the given HCL.
func (e *Env) Config(hcl string) string { return e.ProviderBlock(MaintainerToken) + hcl }

// ProviderFactories serves the provider in process, as terraform-plugin-testing
// expects, with the same server as the provider binary.
func ProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"gitlabagent": func() (tfprotov6.ProviderServer, error) { return provider.NewServer(provider.New("test")())(), nil },
	}
}

var setup sync.Once

// PreCheck makes sure a terraform binary is found and that nothing in a test
// reaches for the network: no checkpoint calls, an empty CLI configuration,
// the local terraform binary instead of a download.
func PreCheck(t *testing.T) {
	t.Helper()
	var err error
	setup.Do(func() { err = prepareEnvironment() })
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Fatal("no terraform binary: install Terraform (>= 1.11) or OpenTofu (>= 1.11) and set TF_ACC_TERRAFORM_PATH to it (make test TF=tofu does), or put terraform on PATH")
	}
}

func prepareEnvironment() error {
	if os.Getenv("CHECKPOINT_DISABLE") == "" {
		if err := os.Setenv("CHECKPOINT_DISABLE", "1"); err != nil {
			return err
		}
	}
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f == "" || !fileExists(f) {
		empty := filepath.Join(os.TempDir(), "gitlabagent-acctest-empty.tfrc")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			return fmt.Errorf("writing an empty Terraform CLI configuration: %w", err)
		}
		if err := os.Setenv("TF_CLI_CONFIG_FILE", empty); err != nil {
			return err
		}
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if tf, err := exec.LookPath("terraform"); err == nil {
			if err := os.Setenv("TF_ACC_TERRAFORM_PATH", tf); err != nil {
				return err
			}
		}
	}
	// OpenTofu resolves providers written without a host on its own
	// registry: terraform-plugin-testing must serve them there too.
	if os.Getenv("TF_ACC_PROVIDER_HOST") == "" && isOpenTofu(os.Getenv("TF_ACC_TERRAFORM_PATH")) {
		if err := os.Setenv("TF_ACC_PROVIDER_HOST", openTofuRegistry); err != nil {
			return err
		}
	}
	return nil
}

// openTofuRegistry is the host OpenTofu resolves provider sources on.
const openTofuRegistry = "registry.opentofu.org"

// isOpenTofu tells whether the binary is OpenTofu: `tofu version` prints
// "OpenTofu v1.x.y" first.
func isOpenTofu(binary string) bool {
	if binary == "" {
		return false
	}
	out, err := exec.CommandContext(context.Background(), binary, "version").Output()
	return err == nil && strings.HasPrefix(string(out), "OpenTofu")
}

// ProviderHost is the registry host providers served by a test are known
// by: TF_ACC_PROVIDER_HOST, which PreCheck sets for OpenTofu, else
// Terraform's. A configuration that writes a provider's source in full
// must use it.
func ProviderHost() string {
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" {
		return h
	}
	return "registry.terraform.io"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ImportIDFunc builds an import ID from a resource's state: the given prefix
// (a project as a path or numeric ID) followed by the named attributes, all
// joined by ':'.
func ImportIDFunc(resourceName, project string, attributes ...string) resource.ImportStateIdFunc {
	return func(s *terraform.State) (string, error) {
		rs, ok := s.RootModule().Resources[resourceName]
		if !ok {
			return "", fmt.Errorf("%s is not in state", resourceName)
		}
		parts := []string{project}
		for _, a := range attributes {
			v, ok := rs.Primary.Attributes[a]
			if !ok || v == "" {
				return "", fmt.Errorf("%s has no %s in state", resourceName, a)
			}
			parts = append(parts, v)
		}
		return strings.Join(parts, ":"), nil
	}
}

// Attribute reads one attribute of a resource from state.
func Attribute(s *terraform.State, resourceName, attribute string) (string, error) {
	rs, ok := s.RootModule().Resources[resourceName]
	if !ok {
		return "", fmt.Errorf("%s is not in state", resourceName)
	}
	v, ok := rs.Primary.Attributes[attribute]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %s", resourceName, attribute)
	}
	return v, nil
}

// Int64Attribute reads a numeric attribute of a resource from state.
func Int64Attribute(s *terraform.State, resourceName, attribute string) (int64, error) {
	v, err := Attribute(s, resourceName, attribute)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// ExpectRequests fails unless the mock logged exactly want requests of this
// method whose escaped path matches the glob pattern.
func (e *Env) ExpectRequests(method, pattern string, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := e.Mock.CountRequests(method, pattern); got != want {
			return fmt.Errorf("mock GitLab saw %d %s %s requests, want %d; log: %v", got, method, pattern, want, e.Mock.Requests())
		}
		return nil
	}
}

// Timestamp renders a mock timestamp as GitLab sends it and the provider
// stores it: UTC, with exactly three fractional digits ("…41.950Z").
func Timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
}

// ErrorRegexp matches a diagnostic that contains each of the given texts, in
// order, as Terraform prints them: Terraform wraps long lines, so every space
// in a text matches any run of whitespace. The texts are literal, not regexps.
func ErrorRegexp(texts ...string) *regexp.Regexp {
	parts := make([]string, len(texts))
	for i, text := range texts {
		words := strings.Fields(text)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		parts[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}
