package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

// config is the part of GoReleaser's configuration (version 2) that
// .goreleaser.yml uses. It is decoded strictly: a key GoReleaser would act on
// and this script does not know fails the load, so the snapshot can never
// silently differ from what GoReleaser publishes.
type config struct {
	Version     int             `yaml:"version"`
	ProjectName string          `yaml:"project_name"`
	Builds      []buildConfig   `yaml:"builds"`
	Archives    []archiveConfig `yaml:"archives"`
	Checksum    checksumConfig  `yaml:"checksum"`
	Signs       []signConfig    `yaml:"signs"`
	Release     releaseConfig   `yaml:"release"`
	Snapshot    snapshotConfig  `yaml:"snapshot"`
	Changelog   changelogConfig `yaml:"changelog"`
}

type buildConfig struct {
	Env          []string   `yaml:"env"`
	ModTimestamp string     `yaml:"mod_timestamp"`
	Flags        []string   `yaml:"flags"`
	Ldflags      []string   `yaml:"ldflags"`
	Goos         []string   `yaml:"goos"`
	Goarch       []string   `yaml:"goarch"`
	Ignore       []platform `yaml:"ignore"`
	Binary       string     `yaml:"binary"`
}

type archiveConfig struct {
	Formats      []string      `yaml:"formats"`
	NameTemplate string        `yaml:"name_template"`
	Files        []archiveFile `yaml:"files"`
}

type archiveFile struct {
	Src  string `yaml:"src"`
	Info struct {
		Mtime string `yaml:"mtime"`
	} `yaml:"info"`
}

type extraFile struct {
	Glob         string `yaml:"glob"`
	NameTemplate string `yaml:"name_template"`
}

type checksumConfig struct {
	NameTemplate string      `yaml:"name_template"`
	Algorithm    string      `yaml:"algorithm"`
	ExtraFiles   []extraFile `yaml:"extra_files"`
}

type signConfig struct {
	Artifacts string   `yaml:"artifacts"`
	Args      []string `yaml:"args"`
}

type releaseConfig struct {
	ExtraFiles []extraFile `yaml:"extra_files"`
}

type snapshotConfig struct {
	VersionTemplate string `yaml:"version_template"`
}

type changelogConfig struct {
	Disable bool `yaml:"disable"`
}

// platform is one GOOS/GOARCH pair.
type platform struct {
	Goos   string `yaml:"goos"`
	Goarch string `yaml:"goarch"`
}

func (p platform) String() string { return p.Goos + "_" + p.Goarch }

// loadConfig reads and checks a GoReleaser configuration.
func loadConfig(path string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(data)
}

func parseConfig(data []byte) (*config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("GoReleaser configuration: %w (scripts/release reads only the keys it knows; teach it a new one before using it)", err)
	}
	var errs []error
	if c.Version != 2 {
		errs = append(errs, fmt.Errorf("version: %d, want 2", c.Version))
	}
	if c.ProjectName == "" {
		errs = append(errs, errors.New("project_name: required"))
	}
	if len(c.Builds) != 1 {
		errs = append(errs, fmt.Errorf("builds: %d, want exactly one", len(c.Builds)))
	}
	if len(c.Archives) != 1 || !slices.Equal(c.Archives[0].Formats, []string{"zip"}) {
		errs = append(errs, errors.New("archives: want exactly one, of format zip (the registries read zip archives only)"))
	}
	if c.Checksum.Algorithm != "sha256" {
		errs = append(errs, fmt.Errorf("checksum.algorithm: %q, want sha256 (the registries read SHA256SUMS)", c.Checksum.Algorithm))
	}
	if len(c.Checksum.ExtraFiles) != 1 {
		errs = append(errs, errors.New("checksum.extra_files: want exactly the registry manifest"))
	}
	if len(c.Signs) != 1 || c.Signs[0].Artifacts != "checksum" {
		errs = append(errs, errors.New("signs: want exactly one, of artifacts: checksum"))
	}
	if c.Snapshot.VersionTemplate == "" {
		errs = append(errs, errors.New("snapshot.version_template: required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("GoReleaser configuration: %w", errors.Join(errs...))
	}
	return &c, nil
}

// platforms lists the build's GOOS/GOARCH pairs in GoReleaser's order (each
// goos, each goarch) without the ignored ones.
func (c *config) platforms() []platform {
	b := c.Builds[0]
	var out []platform
	for _, goos := range b.Goos {
		for _, goarch := range b.Goarch {
			p := platform{Goos: goos, Goarch: goarch}
			if !slices.Contains(b.Ignore, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// meta is what GoReleaser's templates see: the fields .goreleaser.yml uses.
type meta struct {
	ProjectName     string
	Version         string
	Tag             string
	Commit          string
	ShortCommit     string
	CommitTimestamp int64
	CommitDate      string
	Os              string
	Arch            string
	Env             map[string]string
}

// render evaluates a GoReleaser template: Go's text/template, as GoReleaser's.
func render(name, text string, m meta) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, m); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return b.String(), nil
}

// plan is every file a release is made of, named as GoReleaser names them.
type plan struct {
	Version   string
	Archives  []archivePlan
	Manifest  extraPlan // the registry manifest, checksummed and published
	Checksums string    // the SHA256SUMS file
	Signature string    // its detached signature
}

type archivePlan struct {
	Platform platform
	Name     string   // the zip
	Binary   string   // the binary's name inside the zip
	Env      []string // the go build environment, GOOS/GOARCH included
	Flags    []string // go build flags, -ldflags included
	Files    []archiveFile
	Mtime    string // the binary's modification time (mod_timestamp), unix seconds
}

type extraPlan struct {
	Src  string
	Name string
}

// makePlan names every artifact of the release for the given metadata
// (Version already the release's or the snapshot's) and platforms.
func (c *config) makePlan(m meta, platforms []platform) (*plan, error) {
	m.ProjectName = c.ProjectName
	b, a := c.Builds[0], c.Archives[0]
	p := &plan{Version: m.Version}
	var err error
	if p.Checksums, err = render("checksum.name_template", c.Checksum.NameTemplate, m); err != nil {
		return nil, err
	}
	// GoReleaser's default signature name.
	p.Signature = p.Checksums + ".sig"
	p.Manifest.Src = c.Checksum.ExtraFiles[0].Glob
	if p.Manifest.Name, err = render("checksum.extra_files.name_template", c.Checksum.ExtraFiles[0].NameTemplate, m); err != nil {
		return nil, err
	}
	for _, rel := range c.Release.ExtraFiles {
		name, err := render("release.extra_files.name_template", rel.NameTemplate, m)
		if err != nil {
			return nil, err
		}
		if rel.Glob != p.Manifest.Src || name != p.Manifest.Name {
			return nil, fmt.Errorf("release.extra_files: %s as %s, but checksum.extra_files has %s as %s: publish what is checksummed",
				rel.Glob, name, p.Manifest.Src, p.Manifest.Name)
		}
	}
	known := c.platforms()
	for _, pf := range platforms {
		if !slices.Contains(known, pf) {
			return nil, fmt.Errorf("platform %s is not built by %s", pf, "builds[0]")
		}
		pm := m
		pm.Os, pm.Arch = pf.Goos, pf.Goarch
		ap := archivePlan{Platform: pf, Files: a.Files}
		if ap.Name, err = render("archives.name_template", a.NameTemplate, pm); err != nil {
			return nil, err
		}
		ap.Name += ".zip"
		if ap.Binary, err = render("builds.binary", b.Binary, pm); err != nil {
			return nil, err
		}
		if pf.Goos == "windows" {
			ap.Binary += ".exe"
		}
		ap.Env = append(slices.Clone(b.Env), "GOOS="+pf.Goos, "GOARCH="+pf.Goarch)
		if pf.Goarch == "arm" {
			ap.Env = append(ap.Env, "GOARM=6") // GoReleaser's default goarm
		}
		ap.Flags = slices.Clone(b.Flags)
		var ldflags []string
		for _, l := range b.Ldflags {
			r, err := render("builds.ldflags", l, pm)
			if err != nil {
				return nil, err
			}
			ldflags = append(ldflags, r)
		}
		if len(ldflags) > 0 {
			ap.Flags = append(ap.Flags, "-ldflags="+strings.Join(ldflags, " "))
		}
		if ap.Mtime, err = render("builds.mod_timestamp", b.ModTimestamp, pm); err != nil {
			return nil, err
		}
		p.Archives = append(p.Archives, ap)
	}
	return p, nil
}
