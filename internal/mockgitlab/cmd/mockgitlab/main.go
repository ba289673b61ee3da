// Command mockgitlab runs the mock GitLab server of package mockgitlab as a standalone process.
//
//	mockgitlab [-listen 127.0.0.1:0] [-seed FILE] [-print-seed]
//
// It prints its API base URL (http://HOST:PORT/api/v4) as the first line of standard output, then serves
// until SIGINT or SIGTERM and shuts down gracefully. With -print-seed it prints the default seed as
// indented JSON and exits. Tokens are never printed except through -print-seed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the flags, serves until ctx is done, and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mockgitlab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	seedFile := fs.String("seed", "", "JSON seed file (default: the built-in seed)")
	printSeed := fs.Bool("print-seed", false, "print the default seed as JSON and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mockgitlab: unexpected arguments: %v\n", fs.Args())
		return 2
	}

	if *printSeed {
		out, err := json.MarshalIndent(mockgitlab.DefaultSeed(), "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "mockgitlab: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, string(out))
		return 0
	}

	seed := mockgitlab.DefaultSeed()
	if *seedFile != "" {
		data, err := os.ReadFile(*seedFile)
		if err != nil {
			fmt.Fprintf(stderr, "mockgitlab: reading seed: %v\n", err)
			return 1
		}
		if seed, err = mockgitlab.ParseSeed(data); err != nil {
			fmt.Fprintf(stderr, "mockgitlab: invalid seed file %s: %v\n", *seedFile, err)
			return 1
		}
	}
	srv, err := mockgitlab.New(seed)
	if err != nil {
		fmt.Fprintf(stderr, "mockgitlab: %v\n", err)
		return 1
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "mockgitlab: %v\n", err)
		return 1
	}
	return serve(ctx, ln, srv, stdout, stderr)
}

// serve prints the base URL of ln, serves h on it until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler, stdout, stderr io.Writer) int {
	httpSrv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "http://%s/api/v4\n", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()

	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "mockgitlab: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "mockgitlab: shutdown: %v\n", err)
		return 1
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "mockgitlab: %v\n", err)
		return 1
	}
	return 0
}
