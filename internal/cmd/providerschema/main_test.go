package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// The output must be what `terraform providers schema -json` prints for the
// provider, section by section, for every section the Terraform at hand
// knows (1.11 prints no identity, versions before 1.14 no list resources;
// ephemeral resources are printed since 1.10).
func TestSchemaIsTerraforms(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("compares with the output of a terraform binary: set TF_ACC=1")
	}
	terraform := os.Getenv("TF_ACC_TERRAFORM_PATH")
	reattach := acctest.ServeInProcess(t)
	dir := t.TempDir()
	config := `
terraform {
  required_providers {
    gitlabagent = {
      source = "` + acctest.ProviderHost() + `/gitlabagent/gitlabagent"
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(terraform, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+reattach, "TF_IN_AUTOMATION=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("terraform %v: %v", args, err)
		}
		return out
	}
	run("init", "-input=false", "-no-color")
	var theirs tfjson.ProviderSchemas
	if err := json.Unmarshal(run("providers", "schema", "-json"), &theirs); err != nil {
		t.Fatal(err)
	}
	want, ok := theirs.Schemas[acctest.ProviderHost()+"/gitlabagent/gitlabagent"]
	if !ok || want == nil {
		t.Fatalf("terraform printed no schema for the provider: %v", theirs.Schemas)
	}

	b, err := schemaJSON(context.Background(), providerserver.NewProtocol6(provider.New("test")())())
	if err != nil {
		t.Fatal(err)
	}
	var ours tfjson.ProviderSchemas
	if err := json.Unmarshal(b, &ours); err != nil {
		t.Fatalf("the output is not valid providers schema JSON: %v", err)
	}
	got := ours.Schemas[providerName]
	if got == nil {
		t.Fatalf("the output has no schemas under %q", providerName)
	}
	same := func(section string, mine, terraforms any) {
		t.Helper()
		m, _ := json.MarshalIndent(mine, "", " ")
		w, _ := json.MarshalIndent(terraforms, "", " ")
		if string(m) != string(w) {
			t.Errorf("%s differs from terraform's:\nours:\n%s\nterraform's:\n%s", section, m, w)
		}
	}
	same("provider", got.ConfigSchema, want.ConfigSchema)
	same("resource_schemas", got.ResourceSchemas, want.ResourceSchemas)
	same("data_source_schemas", got.DataSourceSchemas, want.DataSourceSchemas)
	same("ephemeral_resource_schemas", got.EphemeralResourceSchemas, want.EphemeralResourceSchemas)
	compared := 4
	if want.ResourceIdentitySchemas != nil {
		same("resource_identity_schemas", got.ResourceIdentitySchemas, want.ResourceIdentitySchemas)
		compared++
	}
	if want.ListResourceSchemas != nil {
		same("list_resource_schemas", got.ListResourceSchemas, want.ListResourceSchemas)
		compared++
	}
	t.Logf("compared %d sections with %s", compared, terraform)
}
