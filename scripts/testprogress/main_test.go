package main

import (
	"strings"
	"testing"
	"time"
)

const mod = "example.com/m"

func events(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func runOn(t *testing.T, input string) (string, int) {
	t.Helper()
	var out strings.Builder
	clock := time.Unix(0, 0)
	code := run(strings.NewReader(input), &out, func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	})
	return out.String(), code
}

func TestPassingRun(t *testing.T) {
	out, code := runOn(t, events(
		`{"Action":"start","Package":"example.com/m/internal/a"}`,
		`{"Action":"run","Package":"example.com/m/internal/a","Test":"TestOne"}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestOne","Output":"=== RUN   TestOne\n"}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestOne/sub","Output":"noise\n"}`,
		`{"Action":"pass","Package":"example.com/m/internal/a","Test":"TestOne/sub","Elapsed":0.1}`,
		`{"Action":"pass","Package":"example.com/m/internal/a","Test":"TestOne","Elapsed":1.5}`,
		`{"Action":"run","Package":"example.com/m/internal/a","Test":"TestTwo"}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestTwo","Output":"=== RUN   TestTwo\n"}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestTwo","Output":"    load_test.go:38: set TF_ACC_LOAD=1 to run the load tests\n"}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestTwo","Output":"--- SKIP: TestTwo (0.00s)\n"}`,
		`{"Action":"skip","Package":"example.com/m/internal/a","Test":"TestTwo","Elapsed":0}`,
		`{"Action":"pass","Package":"example.com/m/internal/a","Elapsed":2.25}`,
		`{"Action":"start","Package":"example.com/m/internal/b"}`,
		`{"Action":"skip","Package":"example.com/m/internal/b","Elapsed":0}`,
	))
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	for _, want := range []string{
		"RUN   internal/a TestOne\n",
		"PASS  internal/a TestOne (1.50s)\n",
		"RUN   internal/a TestTwo\n",
		"SKIP  internal/a TestTwo: set TF_ACC_LOAD=1 to run the load tests\n",
		"ok    internal/a (2.2s)\n",
		"-     internal/b: no tests\n",
		"1 passed, 0 failed, 1 skipped in 1s\n",
		"skipped:\n  internal/a TestTwo: set TF_ACC_LOAD=1 to run the load tests\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A test is shown as it starts, before it ends.
	if strings.Index(out, "RUN   internal/a TestOne") > strings.Index(out, "PASS  internal/a TestOne") {
		t.Errorf("TestOne shown as it started after it ended:\n%s", out)
	}
	if strings.Contains(out, "noise") || strings.Contains(out, "TestOne/sub") {
		t.Errorf("a passing test's output or subtests are shown:\n%s", out)
	}
}

func TestFailedTestShowsItsOutput(t *testing.T) {
	out, code := runOn(t, events(
		`{"Action":"start","Package":"example.com/m/internal/a"}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestBad/case","Output":"    bad_test.go:9: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"example.com/m/internal/a","Test":"TestBad/case","Elapsed":0.2}`,
		`{"Action":"output","Package":"example.com/m/internal/a","Test":"TestOther","Output":"other output\n"}`,
		`{"Action":"fail","Package":"example.com/m/internal/a","Test":"TestBad","Elapsed":0.3}`,
		`{"Action":"pass","Package":"example.com/m/internal/a","Test":"TestOther","Elapsed":0.1}`,
		`{"Action":"fail","Package":"example.com/m/internal/a","Elapsed":1}`,
	))
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		"FAIL  internal/a TestBad (0.30s)\n      bad_test.go:9: got 1, want 2\n", // go test's own indent, and 2
		"FAIL  internal/a (1.0s)\n",
		"1 passed, 1 failed, 0 skipped",
		"failed:\n  internal/a TestBad\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "other output") {
		t.Errorf("another test's output is shown with the failure:\n%s", out)
	}
}

func TestPackageFailureWithoutATestAndBuildErrors(t *testing.T) {
	out, code := runOn(t, events(
		`{"ImportPath":"example.com/m/internal/c","Action":"build-output","Output":"internal/c/c.go:3:1: syntax error\n"}`,
		`{"ImportPath":"example.com/m/internal/c","Action":"build-fail"}`,
		`{"Action":"start","Package":"example.com/m/internal/c"}`,
		`{"Action":"output","Package":"example.com/m/internal/c","Output":"FAIL\texample.com/m/internal/c [build failed]\n"}`,
		`{"Action":"fail","Package":"example.com/m/internal/c","Elapsed":0}`,
		`{"Action":"start","Package":"example.com/m/internal/d"}`,
		`{"Action":"output","Package":"example.com/m/internal/d","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}`,
		`not json at all`,
	))
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		"internal/c/c.go:3:1: syntax error\n",
		"FAIL  internal/c (0.0s)\n  FAIL\texample.com/m/internal/c [build failed]\n",
		"not json at all\n",
		"FAIL  internal/d: no result",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestModuleOf(t *testing.T) {
	for in, want := range map[string]string{
		mod:                      mod,
		mod + "/internal/gitlab": mod,
		mod + "/internal/mockgitlab/cmd/mockgitlab": mod,
		mod + "/scripts/bench":                      mod,
	} {
		if got := moduleOf(in); got != want {
			t.Errorf("moduleOf(%q) = %q, want %q", in, got, want)
		}
	}
}
