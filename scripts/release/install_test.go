package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// The mock's seeded maintainer, and the project the configuration uses.
const (
	mockMaintainerToken = "glpat-mock-maintainer-0000000"
	mockProject         = "root/test"
	mockProjectID       = 20
	// standInVersion is the version the stand-in for the official gitlab
	// provider is published under in the mirror.
	standInVersion = "0.0.1"
)

// TestAccInstallFromMirror installs this machine's release archive the way a
// user does without a registry, through a filesystem mirror in the CLI
// configuration (no development overrides), beside a second provider from
// the same mirror, and runs init, plan, apply and destroy against the mock
// GitLab: with the Terraform of TF_ACC_TERRAFORM_PATH and, when set, the
// OpenTofu of TF_ACC_TOFU_PATH.
func TestAccInstallFromMirror(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("TF_ACC is not set (make test sets it)")
	}
	var binaries []string
	for _, env := range []string{"TF_ACC_TERRAFORM_PATH", "TF_ACC_TOFU_PATH"} {
		if p := os.Getenv(env); p != "" && !slices.Contains(binaries, p) {
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("%s=%s: %v", env, p, err)
			}
			binaries = append(binaries, p)
		}
	}
	if len(binaries) == 0 {
		t.Skip("neither TF_ACC_TERRAFORM_PATH nor TF_ACC_TOFU_PATH is set")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// The release, for this platform only, as `make release-snapshot` makes it.
	dist := filepath.Join(t.TempDir(), "dist")
	res, err := release(ctx, options{config: filepath.Join(repoRoot, ".goreleaser.yml"), dist: dist,
		snapshot: true, platforms: "host", sign: true})
	if err != nil {
		t.Fatal(err)
	}
	p := res.plan
	checkSums(t, dist, p)
	checkSignature(t, dist, p)
	archive := filepath.Join(dist, p.Archives[0].Name)

	standIn := buildStandIn(ctx, t)

	mock, err := mockgitlab.New(mockgitlab.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	baseURL := srv.URL + "/api/v4"

	for _, bin := range binaries {
		name := filepath.Base(bin)
		t.Run(name, func(t *testing.T) {
			installAndApply(ctx, t, bin, p.Version, archive, standIn, baseURL)
		})
	}
}

// checkSums checks SHA256SUMS as a user does before installing: every file it
// names is there with that SHA-256, and the archives are all named.
func checkSums(t *testing.T, dist string, p *plan) {
	t.Helper()
	sums, err := os.ReadFile(filepath.Join(dist, p.Checksums))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{p.Manifest.Name: true}
	for _, a := range p.Archives {
		want[a.Name] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, _ := strings.Cut(line, "  ")
		got, err := checksums(dist, []string{name})
		if err != nil {
			t.Fatalf("SHA256SUMS names %s: %v", name, err)
		}
		if string(got) != line+"\n" {
			t.Errorf("%s: SHA256SUMS says %s, the file's is %s", name, sum, got)
		}
		delete(want, name)
	}
	if len(want) > 0 {
		t.Errorf("SHA256SUMS lacks %v", want)
	}
}

// buildStandIn builds the stand-in for the official gitlab provider and zips
// it as a release archive of registry.terraform.io/gitlabhq/gitlab.
func buildStandIn(ctx context.Context, t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	platform := runtime.GOOS + "_" + runtime.GOARCH
	bin := filepath.Join(dir, "terraform-provider-gitlab_v"+standInVersion)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./internal/acctest/gitlabstandin/cmd/terraform-provider-gitlab")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in gitlab provider: %v\n%s", err, out)
	}
	archive := filepath.Join(dir, "terraform-provider-gitlab_"+standInVersion+"_"+platform+".zip")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: filepath.Base(bin), Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := io.Copy(w, src); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return archive
}

func isOpenTofu(ctx context.Context, bin string) bool {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	return err == nil && strings.HasPrefix(string(out), "OpenTofu")
}

func installAndApply(ctx context.Context, t *testing.T, bin, version, archive, standIn, baseURL string) {
	host := "registry.terraform.io"
	if isOpenTofu(ctx, bin) {
		host = "registry.opentofu.org" // where OpenTofu resolves "gitlabagent/gitlabagent"
	}
	// The mirror in the packed layout: HOST/NAMESPACE/TYPE/<the release's zip>.
	mirror := t.TempDir()
	for _, pkg := range []struct{ addr, zip string }{
		{"gitlabagent/gitlabagent", archive},
		{"gitlabhq/gitlab", standIn},
	} {
		dir := filepath.Join(mirror, host, pkg.addr)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(pkg.zip, filepath.Join(dir, filepath.Base(pkg.zip))); err != nil {
			t.Fatal(err)
		}
	}
	cliConfig := filepath.Join(t.TempDir(), "mirror.tfrc")
	if err := os.WriteFile(cliConfig, fmt.Appendf(nil, `provider_installation {
  filesystem_mirror {
    path = %q
  }
}
`, mirror), 0o644); err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "main.tf"), fmt.Appendf(nil, mirrorConfig, version, standInVersion,
		baseURL, mockMaintainerToken, baseURL, mockMaintainerToken, mockProject), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"TF_CLI_CONFIG_FILE=" + cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0",
		"HOME=" + work, "PATH=" + os.Getenv("PATH")}
	tf := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = work
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	out := tf("init", "-no-color")
	if strings.Contains(out, "override") {
		t.Errorf("init used a development override:\n%s", out)
	}
	checkLockFile(t, filepath.Join(work, ".terraform.lock.hcl"), host, version, archive, standIn)

	var selected struct {
		ProviderSelections map[string]string `json:"provider_selections"`
	}
	if err := json.Unmarshal([]byte(tf("version", "-json")), &selected); err != nil {
		t.Fatal(err)
	}
	if got := selected.ProviderSelections[host+"/gitlabagent/gitlabagent"]; got != version {
		t.Errorf("selected gitlabagent %q, want the release's %q (selections %v)", got, version, selected.ProviderSelections)
	}

	tf("plan", "-no-color", "-out=tfplan")
	tf("apply", "-no-color", "tfplan")
	var agents []string
	if err := json.Unmarshal([]byte(tf("output", "-json", "agents")), &agents); err != nil {
		t.Fatal(err)
	}
	if want := []string{"installed-by-gitlab", "installed-from-mirror"}; !slices.Equal(agents, want) {
		t.Errorf("after apply, the project's agents are %v, want %v", agents, want)
	}
	if got := mockAgents(t, baseURL); len(got) != 2 {
		t.Errorf("GitLab has agents %v after apply, want two", got)
	}
	tf("destroy", "-no-color", "-auto-approve")
	if got := mockAgents(t, baseURL); len(got) != 0 {
		t.Errorf("GitLab still has agents %v after destroy", got)
	}
}

// mirrorConfig requires both providers from the mirror, this one at the
// release's exact version (a snapshot is a pre-release, installed only when
// pinned), and uses both against the mock.
const mirrorConfig = `terraform {
  required_providers {
    gitlabagent = {
      source  = "gitlabagent/gitlabagent"
      version = "= %s"
    }
    gitlab = {
      source  = "gitlabhq/gitlab"
      version = "%s"
    }
  }
}

provider "gitlabagent" {
  base_url = %q
  token    = %q
}

provider "gitlab" {
  base_url = %q
  token    = %q
}

locals {
  project = %q
}

resource "gitlab_cluster_agent" "legacy" {
  project = local.project
  name    = "installed-by-gitlab"
}

resource "gitlabagent_cluster_agent" "this" {
  project = local.project
  name    = "installed-from-mirror"
}

resource "gitlabagent_cluster_agent_token" "this" {
  project  = local.project
  agent_id = gitlabagent_cluster_agent.this.agent_id
  name     = "agentk"
}

data "gitlabagent_cluster_agents" "all" {
  project    = local.project
  depends_on = [gitlab_cluster_agent.legacy, gitlabagent_cluster_agent.this]
}

output "agents" {
  value = sort([for a in data.gitlabagent_cluster_agents.all.cluster_agents : a.name])
}
`

// checkLockFile checks that init recorded both providers at the mirror's
// versions with the hash of their archives' contents (h1). From a mirror,
// Terraform records no zh hashes (the archives' SHA-256, which a registry
// takes from SHA256SUMS).
func checkLockFile(t *testing.T, path, host, version, archive, standIn string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("init wrote no lock file: %v", err)
	}
	lock := string(data)
	for _, pkg := range []struct{ addr, version, zip string }{
		{host + "/gitlabagent/gitlabagent", version, archive},
		{host + "/gitlabhq/gitlab", standInVersion, standIn},
	} {
		block := regexp.MustCompile(`(?s)provider "` + regexp.QuoteMeta(pkg.addr) + `" \{(.*?)\n\}`).FindStringSubmatch(lock)
		if block == nil {
			t.Errorf("the lock file has no %s:\n%s", pkg.addr, lock)
			continue
		}
		if !strings.Contains(block[1], `version     = "`+pkg.version+`"`) {
			t.Errorf("the lock file has %s at another version than %s:%s", pkg.addr, pkg.version, block[1])
		}
		h1, err := dirhash.HashZip(pkg.zip, dirhash.Hash1)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(block[1], `"`+h1+`"`) {
			t.Errorf("the lock file lacks %s's hash %s:%s", pkg.addr, h1, block[1])
		}
	}
}

// mockAgents lists the names of the agents in the mock's project.
func mockAgents(t *testing.T, baseURL string) []string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/projects/%d/cluster_agents", baseURL, mockProjectID), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("PRIVATE-TOKEN", mockMaintainerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var agents []struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&agents); err != nil {
		t.Fatalf("listing agents: %s: %v", resp.Status, err)
	}
	var names []string
	for _, a := range agents {
		names = append(names, a.Name)
	}
	return names
}
