//go:build pprof

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
)

// Profiling for benchmarks, compiled in only with `go build -tags pprof`:
// the shipped provider has none of it. GITLABAGENT_CPUPROFILE and
// GITLABAGENT_MEMPROFILE name files ("%d" becomes the process ID, since
// Terraform may start the provider more than once per command) that receive a
// CPU profile of the whole process and a heap profile taken when it exits.
func init() {
	cpu := profilePath("GITLABAGENT_CPUPROFILE")
	mem := profilePath("GITLABAGENT_MEMPROFILE")
	var stopCPU func()
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		} else {
			stopCPU = func() {
				pprof.StopCPUProfile()
				_ = f.Close()
			}
		}
	}
	atExit = func() {
		if stopCPU != nil {
			stopCPU()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				fmt.Fprintf(os.Stderr, "heap profile: %v\n", err)
				return
			}
			runtime.GC()
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
	}
}

func profilePath(env string) string {
	return strings.ReplaceAll(os.Getenv(env), "%d", fmt.Sprint(os.Getpid()))
}
