package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

func TestRunPrintsBaseURLFirstAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()

	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output; stderr: %s", stderr.String())
	}
	base := lines.Text()
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/api/v4$`).MatchString(base) {
		t.Fatalf("first line = %q", base)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	req, _ := http.NewRequest(http.MethodGet, base+"/user", nil)
	req.Header.Set("PRIVATE-TOKEN", "glpat-mock-root-000000000000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"username":"root"`) {
		t.Fatalf("GET /user = %d %s", resp.StatusCode, body)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	if strings.Contains(stderr.String(), "glpat") {
		t.Fatal("stderr contains a token")
	}
}

func TestRunPrintSeed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-print-seed"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	seed, err := mockgitlab.ParseSeed(stdout.Bytes())
	if err != nil {
		t.Fatalf("printed seed does not parse: %v", err)
	}
	if !reflect.DeepEqual(seed, mockgitlab.DefaultSeed()) {
		t.Fatal("printed seed differs from DefaultSeed")
	}
	if !strings.Contains(stdout.String(), "\n  \"users\"") {
		t.Fatal("seed is not indented")
	}
}

func TestRunBadSeed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(bad, []byte(`{"users":[{"id":1,"username":"a","tokens":["secret-token"]}],"projects":[{"id":1,"path_with_namespace":"g/p","members":{"a":"chief"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-seed", bad}, {"-seed", filepath.Join(dir, "missing.json")}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 1 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), "mockgitlab: ") {
			t.Fatalf("%v: stdout %q stderr %q", args, stdout.String(), stderr.String())
		}
		if strings.Contains(stderr.String(), "secret-token") {
			t.Fatal("error message leaks a token")
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, &stdout, &stderr); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
}

func TestRunWithSeedFile(t *testing.T) {
	dir := t.TempDir()
	seedPath := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seedPath, []byte(`{"users":[{"id":9,"username":"solo","admin":true,"tokens":["tok-solo"]}],"projects":[],"settings":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-seed", seedPath}, pw, io.Discard); pw.Close() }()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("no output")
	}
	base := lines.Text()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	resp, err := http.Get(base + "/user?private_token=tok-solo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("seeded user: %d", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// `make mock` stopped by SIGTERM (as a supervisor or `kill` stops it) stops
// the mock too: nothing is left answering on its port.
func TestMakeMockStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mock with make")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on PATH")
	}
	cmd := exec.Command("make", "-s", "mock")
	cmd.Dir = filepath.Join("..", "..", "..", "..")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, nothing of the test outlives it.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("make mock printed nothing")
	}
	base := lines.Text()
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if resp, err := http.Get(base + "/version"); err != nil {
		t.Fatalf("the mock at %s does not answer: %v", base, err)
	} else {
		resp.Body.Close()
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := client.Get(base + "/version")
		if err != nil {
			return // gone
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the mock still answers at %s after make mock was stopped by SIGTERM", base)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
