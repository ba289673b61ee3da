package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// repoRoot is the module root, where .goreleaser.yml is.
const repoRoot = "../.."

// registryPlatforms is what the provider is published for: the platforms of
// HashiCorp's provider scaffolding, less those Go cannot build (darwin/386,
// darwin/arm, windows/arm).
var registryPlatforms = []string{
	"freebsd_amd64", "freebsd_386", "freebsd_arm", "freebsd_arm64",
	"windows_amd64", "windows_386", "windows_arm64",
	"linux_amd64", "linux_386", "linux_arm", "linux_arm64",
	"darwin_amd64", "darwin_arm64",
}

func testMeta() meta {
	return meta{Version: "1.2.3", Tag: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", ShortCommit: "0123456",
		CommitTimestamp: 1767225600, CommitDate: "2026-01-01T00:00:00Z"}
}

// The names, platforms and contents .goreleaser.yml gives a release, as
// scripts/release reads it, are the registries' layout: if either the file or
// the script changes them, this fails.
func TestGoReleaserConfigGivesRegistryLayout(t *testing.T) {
	cfg, err := loadConfig(filepath.Join(repoRoot, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.platforms() {
		got = append(got, p.String())
	}
	if !slices.Equal(got, registryPlatforms) {
		t.Fatalf("platforms:\n got %v\nwant %v", got, registryPlatforms)
	}
	p, err := cfg.makePlan(testMeta(), cfg.platforms())
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "terraform-provider-gitlabagent_1.2.3_"
	if p.Checksums != prefix+"SHA256SUMS" || p.Signature != prefix+"SHA256SUMS.sig" {
		t.Errorf("checksums %q, signature %q", p.Checksums, p.Signature)
	}
	if p.Manifest != (extraPlan{Src: "terraform-registry-manifest.json", Name: prefix + "manifest.json"}) {
		t.Errorf("manifest %+v", p.Manifest)
	}
	for i, a := range p.Archives {
		pf := registryPlatforms[i]
		if a.Name != prefix+pf+".zip" {
			t.Errorf("%s: archive %q", pf, a.Name)
		}
		wantBinary := "terraform-provider-gitlabagent_v1.2.3"
		if strings.HasPrefix(pf, "windows") {
			wantBinary += ".exe"
		}
		if a.Binary != wantBinary {
			t.Errorf("%s: binary %q, want %q", pf, a.Binary, wantBinary)
		}
		if !slices.Contains(a.Env, "CGO_ENABLED=0") || !slices.Contains(a.Env, "GOOS="+a.Platform.Goos) {
			t.Errorf("%s: build environment %v", pf, a.Env)
		}
		wantFlags := []string{"-trimpath", "-ldflags=-s -w -X main.version=1.2.3 -X main.commit=0123456789abcdef0123456789abcdef01234567"}
		if !slices.Equal(a.Flags, wantFlags) {
			t.Errorf("%s: flags %q, want %q", pf, a.Flags, wantFlags)
		}
		if a.Mtime != "1767225600" {
			t.Errorf("%s: binary time %q, want the commit's", pf, a.Mtime)
		}
		var files []string
		for _, f := range a.Files {
			files = append(files, f.Src)
		}
		if !slices.Equal(files, []string{"LICENSE", "README.md", "CHANGELOG.md"}) {
			t.Errorf("%s: archive files %v", pf, files)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(repoRoot, p.Manifest.Src))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(manifest, []byte(`"protocol_versions": ["6.0"]`)) {
		t.Errorf("terraform-registry-manifest.json does not announce protocol 6.0, which main.go serves:\n%s", manifest)
	}
}

func TestSnapshotVersion(t *testing.T) {
	cfg, err := loadConfig(filepath.Join(repoRoot, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := render("snapshot.version_template", cfg.Snapshot.VersionTemplate, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	// A semver pre-release, which Terraform installs only when pinned exactly.
	if got != "1.2.3-snapshot-0123456" {
		t.Errorf("snapshot version %q", got)
	}
}

// A key GoReleaser acts on that the script does not know fails the load,
// rather than being ignored by the snapshot.
func TestGoReleaserConfigRefusesWhatTheScriptDoesNotRead(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseConfig(good); err != nil {
		t.Fatalf("the repository's configuration: %v", err)
	}
	for name, edit := range map[string]func(string) string{
		"unknown build key": func(s string) string {
			return strings.Replace(s, "    binary:", "    goamd64: [v3]\n    binary:", 1)
		},
		"tar.gz archives": func(s string) string { return strings.Replace(s, "      - zip", "      - tar.gz", 1) },
		"sha512":          func(s string) string { return strings.Replace(s, "algorithm: sha256", "algorithm: sha512", 1) },
		"release publishes another manifest name": func(s string) string {
			return strings.Replace(s, "release:\n  extra_files:\n    - glob: terraform-registry-manifest.json\n      name_template: \"{{ .ProjectName }}_{{ .Version }}_manifest.json\"",
				"release:\n  extra_files:\n    - glob: terraform-registry-manifest.json\n      name_template: \"manifest.json\"", 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			edited := edit(string(good))
			if edited == string(good) {
				t.Fatal("the edit changed nothing: the test no longer matches .goreleaser.yml")
			}
			cfg, err := parseConfig([]byte(edited))
			if err == nil {
				_, err = cfg.makePlan(testMeta(), cfg.platforms())
			}
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// fakeBuild writes a stand-in binary that names its platform and flags.
func fakeBuild(_ context.Context, ap archivePlan, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(ap.Platform.String()+" "+strings.Join(ap.Flags, " ")), 0o755)
}

// A snapshot of two platforms: the zips hold the binary and the files, the
// same commit zips to the same bytes, SHA256SUMS matches every file and the
// signature verifies with the key written beside it.
func TestSnapshotArtifacts(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{".goreleaser.yml", "LICENSE", "README.md", "CHANGELOG.md", "terraform-registry-manifest.json"} {
		if err := copyFile(filepath.Join(repoRoot, f), filepath.Join(src, f)); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "release")
	git("-c", "tag.gpgsign=false", "tag", "v0.4.0")

	var dists [2]string
	var res *result
	for i := range dists {
		dists[i] = filepath.Join(t.TempDir(), "dist")
		var err error
		res, err = release(context.Background(), options{config: filepath.Join(src, ".goreleaser.yml"), dist: dists[i],
			snapshot: true, platforms: "linux_amd64,windows_arm64", sign: true, build: fakeBuild})
		if err != nil {
			t.Fatal(err)
		}
	}
	p := res.plan
	if !strings.HasPrefix(p.Version, "0.4.0-snapshot-") {
		t.Errorf("version %q, want the tag's with the snapshot suffix", p.Version)
	}
	dist := dists[0]
	for _, a := range p.Archives {
		zipped, err := os.ReadFile(filepath.Join(dist, a.Name))
		if err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(filepath.Join(dists[1], a.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(zipped, again) {
			t.Errorf("%s: two builds of one commit zip differently", a.Name)
		}
		zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
			if f.Modified.Unix() != res.meta.CommitTimestamp {
				t.Errorf("%s: %s dated %v, want the commit's time", a.Name, f.Name, f.Modified)
			}
		}
		if want := []string{a.Binary, "LICENSE", "README.md", "CHANGELOG.md"}; !slices.Equal(names, want) {
			t.Errorf("%s holds %v, want %v", a.Name, names, want)
		}
		if zr.File[0].Mode()&0o111 == 0 {
			t.Errorf("%s: the binary is not executable", a.Name)
		}
	}

	sums, err := os.ReadFile(filepath.Join(dist, p.Checksums))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	if len(lines) != 3 {
		t.Fatalf("SHA256SUMS has %d lines, want 2 archives and the manifest:\n%s", len(lines), sums)
	}
	for _, line := range lines {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not <hex>  <name>", line)
		}
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		if hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: SHA256SUMS says %s, the file's is %x", name, sum, h)
		}
	}
	if manifest, _ := os.ReadFile(filepath.Join(dist, p.Manifest.Name)); !bytes.Contains(manifest, []byte("protocol_versions")) {
		t.Errorf("manifest %s: %s", p.Manifest.Name, manifest)
	}
	checkSignature(t, dist, p)
}

func checkSignature(t *testing.T, dist string, p *plan) {
	t.Helper()
	key, err := os.Open(filepath.Join(dist, signingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	ring, err := openpgp.ReadArmoredKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, p.Checksums))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(filepath.Join(dist, p.Signature))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(sums), bytes.NewReader(sig), nil); err != nil {
		t.Errorf("the signature of %s does not verify: %v", p.Checksums, err)
	}
	tampered := append(bytes.Clone(sums), '\n')
	if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(tampered), bytes.NewReader(sig), nil); err == nil {
		t.Errorf("the signature verifies a changed %s", p.Checksums)
	}
}
