// Command terraform-provider-gitlab serves the stand-in for the official gitlab
// provider (package gitlabstandin) as a plugin, for tests that install
// providers the way users do.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest/gitlabstandin"
)

func main() {
	err := providerserver.Serve(context.Background(), gitlabstandin.New, providerserver.ServeOpts{
		Address: "registry.terraform.io/gitlabhq/gitlab",
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
