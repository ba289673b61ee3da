// Command terraform-provider-gitlabagent serves the gitlabagent Terraform provider.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// address is the provider's registry address.
const address = "registry.terraform.io/gitlabagent/gitlabagent"

// version and commit are set at build time from the release tag with
// -ldflags "-X main.version=… -X main.commit=…" (.goreleaser.yml).
var (
	version = "dev"
	commit  = ""
)

// atExit runs once the provider has stopped serving. It does nothing unless
// the binary was built with -tags pprof (see profile_pprof.go).
var atExit = func() {}

func main() {
	var debug, printVersion bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.BoolVar(&printVersion, "version", false, "print the version and the commit it was built from, and exit")
	flag.Parse()
	if printVersion {
		fmt.Println(versionLine(version, commit))
		return
	}

	for name, value := range provider.QuietLogSettings(os.Environ(), debug) {
		if err := os.Setenv(name, value); err != nil {
			log.Fatal(err.Error())
		}
	}
	// What providerserver.Serve does, with the provider's own server (see provider.NewServer).
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	p := provider.New(version)()
	err := tf6server.Serve(address, provider.NewServer(p), opts...)
	// Kubernetes access tokens Terraform opened and did not close (it skips closing when what used
	// them failed) are revoked before Terraform's grace period for stopping the provider ends.
	provider.Shutdown(context.Background(), p)
	atExit()
	if err != nil {
		log.Fatal(err.Error())
	}
}

// versionLine is what -version prints.
func versionLine(version, commit string) string {
	if commit == "" {
		commit = "unknown commit"
	}
	return fmt.Sprintf("terraform-provider-gitlabagent %s (%s)", version, commit)
}
