// Command release builds the provider's release artifacts from .goreleaser.yml,
// in the layout GoReleaser gives them and the Terraform and OpenTofu
// registries read, without GoReleaser:
//
//	go run ./scripts/release [-snapshot] [-platforms all|host|os_arch,...] [-sign] [-dist dist]
//
// The release workflow publishes with GoReleaser itself; this is what `make
// release-snapshot` runs, and what the install test uses to build the
// archive it installs. -sign signs SHA256SUMS with a key made for the run,
// whose public half is written beside it as snapshot-signing-key.asc.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// signingKeyFile is where -sign writes the throw-away key's public half.
const signingKeyFile = "snapshot-signing-key.asc"

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	configPath := fs.String("config", ".goreleaser.yml", "GoReleaser configuration")
	dist := fs.String("dist", "dist", "output folder, emptied first")
	snapshot := fs.Bool("snapshot", false, "build the current commit as a snapshot version (snapshot.version_template)")
	platforms := fs.String("platforms", "all", `"all", "host", or a comma-separated list such as linux_amd64,darwin_arm64`)
	sign := fs.Bool("sign", false, "sign SHA256SUMS with a throw-away key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := release(ctx, options{
		config: *configPath, dist: *dist, snapshot: *snapshot, platforms: *platforms, sign: *sign,
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s %s in %s:\n", res.plan.Version, map[bool]string{true: "snapshot", false: "release"}[*snapshot], *dist)
	for _, a := range res.plan.Archives {
		fmt.Println("  " + a.Name)
	}
	fmt.Println("  " + res.plan.Manifest.Name)
	fmt.Println("  " + res.plan.Checksums)
	if *sign {
		fmt.Println("  " + res.plan.Signature + " (key: " + signingKeyFile + ")")
	}
	return nil
}

type options struct {
	config    string
	dist      string
	snapshot  bool
	platforms string
	sign      bool
	build     builder // nil: go build
}

type result struct {
	plan *plan
	meta meta
}

func release(ctx context.Context, o options) (*result, error) {
	cfg, err := loadConfig(o.config)
	if err != nil {
		return nil, err
	}
	srcDir := filepath.Dir(o.config)
	m, err := gitMeta(ctx, srcDir, o.snapshot)
	if err != nil {
		return nil, err
	}
	m.ProjectName = cfg.ProjectName
	if o.snapshot {
		if m.Version, err = render("snapshot.version_template", cfg.Snapshot.VersionTemplate, m); err != nil {
			return nil, err
		}
	}
	pfs, err := selectPlatforms(cfg, o.platforms)
	if err != nil {
		return nil, err
	}
	p, err := cfg.makePlan(m, pfs)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(o.dist); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.dist, 0o755); err != nil {
		return nil, err
	}
	build := o.build
	if build == nil {
		build = goBuild(srcDir)
	}
	if !o.sign {
		return &result{plan: p, meta: m}, buildRelease(ctx, p, m, srcDir, o.dist, build, nil)
	}
	key, err := throwAwayKey()
	if err != nil {
		return nil, err
	}
	if err := buildRelease(ctx, p, m, srcDir, o.dist, build, key); err != nil {
		return nil, err
	}
	return &result{plan: p, meta: m}, writePublicKey(filepath.Join(o.dist, signingKeyFile), key)
}

func selectPlatforms(cfg *config, spec string) ([]platform, error) {
	switch spec {
	case "all":
		return cfg.platforms(), nil
	case "host":
		return []platform{{Goos: runtime.GOOS, Goarch: runtime.GOARCH}}, nil
	}
	var out []platform
	for _, s := range strings.Split(spec, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(s), "_")
		if !ok {
			return nil, fmt.Errorf("-platforms: %q is not os_arch (e.g. linux_amd64)", s)
		}
		out = append(out, platform{Goos: goos, Goarch: goarch})
	}
	return out, nil
}
