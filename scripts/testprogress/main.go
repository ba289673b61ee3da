// Command testprogress turns `go test -json` into a line per test as it
// starts and as it ends (passed, failed with its output, or skipped with
// why), a line per package, and a summary that names the failed and the
// skipped tests:
//
//	go test -json ./... | go run ./scripts/testprogress
//
// It exits 1 when a test or a package failed (or the input ended without a
// package's result), so that `make test` fails as `go test` would.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, time.Now))
}

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Elapsed    float64
	Output     string
}

type progress struct {
	out      io.Writer
	module   string
	output   map[string]*strings.Builder // package + top-level test -> output of it and its subtests
	started  map[string]bool             // packages that started
	finished map[string]bool             // packages with a result
	passed   int
	failed   []string
	skipped  []string
	pkgFail  int
}

func run(in io.Reader, out io.Writer, now func() time.Time) int {
	start := now()
	p := &progress{out: out, output: map[string]*strings.Builder{}, started: map[string]bool{}, finished: map[string]bool{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(out, "%s\n", line) // not from test2json: pass it on
			continue
		}
		p.handle(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testprogress: reading the test output: %v\n", err)
		return 1
	}
	var unfinished []string
	for pkg := range p.started {
		if !p.finished[pkg] {
			unfinished = append(unfinished, pkg)
		}
	}
	sort.Strings(unfinished)
	for _, pkg := range unfinished {
		fmt.Fprintf(out, "FAIL  %s: no result (go test stopped?)\n", p.short(pkg))
		p.pkgFail++
	}
	fmt.Fprintf(out, "\n%d passed, %d failed, %d skipped in %s\n", p.passed, len(p.failed), len(p.skipped),
		now().Sub(start).Round(100*time.Millisecond))
	if len(p.skipped) > 0 {
		fmt.Fprintf(out, "skipped:\n  %s\n", strings.Join(p.skipped, "\n  "))
	}
	if len(p.failed) > 0 {
		fmt.Fprintf(out, "failed:\n  %s\n", strings.Join(p.failed, "\n  "))
	}
	if len(p.failed) > 0 || p.pkgFail > 0 {
		return 1
	}
	return 0
}

// short names a package relative to the module, which the first package
// path seen tells.
func (p *progress) short(pkg string) string {
	if p.module != "" {
		if pkg == p.module {
			return "."
		}
		if rest, ok := strings.CutPrefix(pkg, p.module+"/"); ok {
			return rest
		}
	}
	return pkg
}

func (p *progress) buffer(pkg, test string) *strings.Builder {
	top, _, _ := strings.Cut(test, "/")
	key := pkg + " " + top
	b := p.output[key]
	if b == nil {
		b = &strings.Builder{}
		p.output[key] = b
	}
	return b
}

func (p *progress) handle(e event) {
	if e.Action == "build-output" {
		fmt.Fprint(p.out, e.Output)
		return
	}
	if e.Action == "build-fail" {
		return // the package's own fail event follows
	}
	if p.module == "" && e.Package != "" {
		p.module = moduleOf(e.Package)
	}
	pkg := p.short(e.Package)
	switch {
	case e.Test == "" && e.Action == "start":
		p.started[e.Package] = true
	case e.Test == "" && e.Action == "output":
		p.buffer(e.Package, "").WriteString(e.Output)
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		p.finished[e.Package] = true
		switch e.Action {
		case "pass":
			fmt.Fprintf(p.out, "ok    %s (%.1fs)\n", pkg, e.Elapsed)
		case "skip":
			fmt.Fprintf(p.out, "-     %s: no tests\n", pkg)
		case "fail":
			p.pkgFail++
			fmt.Fprintf(p.out, "FAIL  %s (%.1fs)\n", pkg, e.Elapsed)
			// What no test owns: a panic, a timeout, a failed TestMain.
			if out := p.buffer(e.Package, "").String(); out != "" {
				fmt.Fprint(p.out, indent(out))
			}
		}
	case e.Action == "output":
		p.buffer(e.Package, e.Test).WriteString(e.Output)
	case strings.Contains(e.Test, "/"):
		// Subtests are reported with their top-level test.
	case e.Action == "run":
		fmt.Fprintf(p.out, "RUN   %s %s\n", pkg, e.Test)
	case e.Action == "pass":
		p.passed++
		fmt.Fprintf(p.out, "PASS  %s %s (%.2fs)\n", pkg, e.Test, e.Elapsed)
		delete(p.output, e.Package+" "+e.Test)
	case e.Action == "skip":
		name := pkg + " " + e.Test
		if why := skipReason(p.buffer(e.Package, e.Test).String()); why != "" {
			name += ": " + why
		}
		p.skipped = append(p.skipped, name)
		fmt.Fprintf(p.out, "SKIP  %s\n", name)
		delete(p.output, e.Package+" "+e.Test)
	case e.Action == "fail":
		p.failed = append(p.failed, pkg+" "+e.Test)
		fmt.Fprintf(p.out, "FAIL  %s %s (%.2fs)\n", pkg, e.Test, e.Elapsed)
		fmt.Fprint(p.out, indent(p.buffer(e.Package, e.Test).String()))
		delete(p.output, e.Package+" "+e.Test)
	}
}

// skipReason is the message a skipped test gave (t.Skip's), from its
// output: the last line that is not one of go test's own, without the file
// and line it names.
func skipReason(output string) string {
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- ") {
			continue
		}
		if file, msg, ok := strings.Cut(line, ": "); ok && strings.Contains(file, ".go:") {
			return msg
		}
		return line
	}
	return ""
}

// moduleOf guesses the module path from a package path: everything up to a
// /internal/, /cmd/ or /scripts/ element, or the path itself.
func moduleOf(pkg string) string {
	for _, dir := range []string{"/internal/", "/cmd/", "/scripts/"} {
		if i := strings.Index(pkg, dir); i >= 0 {
			return pkg[:i]
		}
	}
	return pkg
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
