package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// gitMeta reads the commit and the version from git as GoReleaser does: the
// version is the latest tag without its "v" (0.0.0 without a tag); for a
// release the commit must carry that tag.
func gitMeta(ctx context.Context, dir string, snapshot bool) (meta, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	var m meta
	var err error
	if m.Commit, err = git("rev-parse", "HEAD"); err != nil {
		return m, fmt.Errorf("git rev-parse HEAD: %w", err)
	}
	if m.ShortCommit, err = git("rev-parse", "--short", "HEAD"); err != nil {
		return m, fmt.Errorf("git rev-parse --short HEAD: %w", err)
	}
	ts, err := git("log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return m, fmt.Errorf("git log: %w", err)
	}
	if m.CommitTimestamp, err = strconv.ParseInt(ts, 10, 64); err != nil {
		return m, fmt.Errorf("commit time %q: %w", ts, err)
	}
	m.CommitDate = time.Unix(m.CommitTimestamp, 0).UTC().Format(time.RFC3339)
	if snapshot {
		m.Tag, err = git("describe", "--tags", "--abbrev=0", "--match", "v[0-9]*")
		if err != nil || m.Tag == "" {
			m.Tag = "v0.0.0"
		}
	} else if m.Tag, err = git("describe", "--tags", "--exact-match", "--match", "v[0-9]*", "HEAD"); err != nil {
		return m, fmt.Errorf("a release needs a version tag (vX.Y.Z) on HEAD; use -snapshot otherwise")
	}
	m.Version = strings.TrimPrefix(m.Tag, "v")
	m.Env = environ()
	return m, nil
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// builder builds one platform's binary into out.
type builder func(ctx context.Context, ap archivePlan, out string) error

// goBuild is the builder GoReleaser's go builder amounts to: go build with the
// build's environment and flags, the main package at the module root.
func goBuild(moduleDir string) builder {
	return func(ctx context.Context, ap archivePlan, out string) error {
		args := append([]string{"build"}, ap.Flags...)
		args = append(args, "-o", out, ".")
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = moduleDir
		cmd.Env = append(os.Environ(), ap.Env...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build for %s: %w", ap.Platform, err)
		}
		return nil
	}
}

// buildRelease writes the plan's artifacts into dist: the zips, the manifest,
// SHA256SUMS and, with a signer, its detached signature. Files named in the
// configuration are read from srcDir.
func buildRelease(ctx context.Context, p *plan, m meta, srcDir, dist string, build builder, signer *openpgp.Entity) error {
	buildDir := filepath.Join(dist, "build")
	for _, ap := range p.Archives {
		bin := filepath.Join(buildDir, ap.Platform.String(), ap.Binary)
		if err := build(ctx, ap, bin); err != nil {
			return err
		}
		if ap.Mtime != "" {
			sec, err := strconv.ParseInt(ap.Mtime, 10, 64)
			if err != nil {
				return fmt.Errorf("builds.mod_timestamp %q: not unix seconds", ap.Mtime)
			}
			if err := os.Chtimes(bin, time.Unix(sec, 0), time.Unix(sec, 0)); err != nil {
				return err
			}
		}
		if err := writeArchive(filepath.Join(dist, ap.Name), bin, ap, m, srcDir); err != nil {
			return fmt.Errorf("%s: %w", ap.Name, err)
		}
	}
	if err := copyFile(filepath.Join(srcDir, p.Manifest.Src), filepath.Join(dist, p.Manifest.Name)); err != nil {
		return err
	}
	names := []string{p.Manifest.Name}
	for _, ap := range p.Archives {
		names = append(names, ap.Name)
	}
	sums, err := checksums(dist, names)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dist, p.Checksums), sums, 0o644); err != nil {
		return err
	}
	if signer == nil {
		return nil
	}
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, signer, bytes.NewReader(sums), nil); err != nil {
		return fmt.Errorf("signing %s: %w", p.Checksums, err)
	}
	return os.WriteFile(filepath.Join(dist, p.Signature), sig.Bytes(), 0o644)
}

// writeArchive zips the binary and the archive's files, flat, each with the
// modification time the configuration gives it (the binary: its own), so
// that the same commit zips to the same bytes.
func writeArchive(path, bin string, ap archivePlan, m meta, srcDir string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	add := func(name, src string, mode os.FileMode, mtime time.Time) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime.UTC()}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	info, err := os.Stat(bin)
	if err == nil {
		err = add(ap.Binary, bin, 0o755, info.ModTime())
	}
	for _, file := range ap.Files {
		if err != nil {
			break
		}
		mtime := time.Now()
		if file.Info.Mtime != "" {
			var s string
			if s, err = render("archives.files.info.mtime", file.Info.Mtime, m); err != nil {
				break
			}
			if mtime, err = time.Parse(time.RFC3339, s); err != nil {
				break
			}
		}
		err = add(filepath.Base(file.Src), filepath.Join(srcDir, file.Src), 0o644, mtime)
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checksums is a SHA256SUMS file over the named files of dir: "<hex>  <name>"
// lines, sorted as GoReleaser sorts them (as whole lines).
func checksums(dir string, names []string) ([]byte, error) {
	var lines []string
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		lines = append(lines, hex.EncodeToString(h.Sum(nil))+"  "+name)
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// throwAwayKey makes an RSA signing key for one snapshot, never stored but
// for its public half, so that the signature can be checked like a release's.
func throwAwayKey() (*openpgp.Entity, error) {
	return openpgp.NewEntity("terraform-provider-gitlabagent snapshot", "throw-away key, not for releases", "", &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA,
		RSABits:   3072,
	})
}

// writePublicKey writes the key's public half, ASCII-armored, as the
// registries take it.
func writePublicKey(path string, e *openpgp.Entity) error {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return err
	}
	if err := e.Serialize(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
