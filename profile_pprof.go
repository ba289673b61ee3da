//go:build pprof

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"
)

// Profiling for benchmarks, compiled in only with `go build -tags pprof`:
// the shipped provider has none of it. GITLABAGENT_CPUPROFILE and
// GITLABAGENT_MEMPROFILE name files ("%d" becomes the process ID, since
// Terraform may start the provider more than once per command) that receive a
// CPU profile of the whole process and a heap profile taken when it exits;
// GITLABAGENT_HEAPPEAK one that receives the largest heap seen (sampled
// every 5 ms) and the number of garbage collections, and, in that name with
// ".heap" appended, the heap profile at the largest live heap.
func init() {
	cpu := profilePath("GITLABAGENT_CPUPROFILE")
	mem := profilePath("GITLABAGENT_MEMPROFILE")
	peak := profilePath("GITLABAGENT_HEAPPEAK")
	var peakHeap, peakLive atomic.Uint64
	if peak != "" {
		go func() {
			samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
			for range time.Tick(5 * time.Millisecond) {
				metrics.Read(samples)
				if v := samples[0].Value.Uint64(); v > peakHeap.Load() {
					peakHeap.Store(v)
				}
				if v := samples[1].Value.Uint64(); v > peakLive.Load() {
					peakLive.Store(v)
					if f, err := os.Create(peak + ".heap"); err == nil {
						_ = pprof.Lookup("heap").WriteTo(f, 0)
						_ = f.Close()
					}
				}
			}
		}()
	}
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
		if peak != "" {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			_ = os.WriteFile(peak, []byte(fmt.Sprintf("heap objects peak %.1f MiB, live after GC peak %.1f MiB, %d GCs, total alloc %.1f MiB\n",
				float64(peakHeap.Load())/(1<<20), float64(peakLive.Load())/(1<<20), ms.NumGC, float64(ms.TotalAlloc)/(1<<20))), 0o600)
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
