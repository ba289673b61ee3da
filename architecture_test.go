package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The package map of ARCHITECTURE.md: what each package of the module may
// import, of the module's own packages (tests apart) and of the plugin
// framework. A package not listed here fails the test until it is.
func TestPackagesImportOnlyWhatArchitectureAllows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const module = "github.com/gitlabagent/terraform-provider-gitlabagent"
	allowed := map[string][]string{
		".":                                  {"internal/provider"},
		"internal/provider":                  {"internal/gitlab"},
		"internal/gitlab":                    {},
		"internal/mockgitlab":                {},
		"internal/mockgitlab/cmd/mockgitlab": {"internal/mockgitlab"},
		"internal/acctest/gitlabstandin":     {},
		"internal/acctest/gitlabstandin/cmd/terraform-provider-gitlab": {"internal/acctest/gitlabstandin"},
		"scripts/release":             {},
		"internal/acctest":            {"internal/provider", "internal/mockgitlab"},
		"internal/cmd/providerschema": {"internal/provider"},
		"scripts/bench":               {"internal/mockgitlab"},
		"scripts/testprogress":        {},
	}
	// The GitLab layer and the mock know nothing of Terraform's protocol or
	// framework (the GitLab layer logs through tflog, nothing more).
	noTerraform := map[string]bool{"internal/gitlab": true, "internal/mockgitlab": true}

	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var pkg struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(pkg.ImportPath, module), "/")
		if name == "" {
			name = "."
		}
		may, known := allowed[name]
		if !known {
			t.Errorf("package %s is not in ARCHITECTURE.md's map (and this test's)", name)
			continue
		}
		for _, imp := range pkg.Imports {
			if own, ok := strings.CutPrefix(imp, module+"/"); ok && !slices.Contains(may, own) {
				t.Errorf("%s imports %s: ARCHITECTURE.md allows it only %v", name, own, may)
			}
			if noTerraform[name] && (strings.HasPrefix(imp, "github.com/hashicorp/terraform-plugin-framework") ||
				strings.HasPrefix(imp, "github.com/hashicorp/terraform-plugin-go")) {
				t.Errorf("%s imports %s: it speaks GitLab, not Terraform", name, imp)
			}
		}
	}
}
