// Command terraform-provider-gitlabagent serves the gitlabagent Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// address is the provider's registry address.
const address = "registry.terraform.io/gitlabagent/gitlabagent"

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// atExit runs once the provider has stopped serving. It does nothing unless
// the binary was built with -tags pprof (see profile_pprof.go).
var atExit = func() {}

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	for name, value := range quietLogSettings(os.Environ(), debug) {
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
