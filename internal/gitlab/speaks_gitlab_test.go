package gitlab

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// terraformWords are what only Terraform users act on: commands, resource
// types, configuration blocks and meta-arguments, and the provider's own
// attribute names. internal/provider words errors with them; the GitLab
// layer returns facts.
var terraformWords = regexp.MustCompile(strings.Join([]string{
	`(?i:terraform) (import|plan|apply|state|query|init|show)`,
	`state rm`,
	`-parallelism`,
	`-replace`,
	`gitlabagent_`,
	`create_before_destroy`,
	`replace_triggered_by`,
	`lifecycle \{`,
	"`import`",
	"`(base_url|token|cacert_file|ca_cert|insecure|client_cert|client_key|client_key_wo|retries|request_timeout|early_auth_check|timeouts|project|rotate_after|rotation_triggers)`",
	"`retries = ",
	`data source`,
}, "|"))

// TestGitLabLayerSpeaksGitLab: no source of the GitLab layer (tests apart)
// names a Terraform command, resource type or attribute.
func TestGitLabLayerSpeaksGitLab(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := terraformWords.FindString(line); m != "" {
				t.Errorf("%s:%d: %q: Terraform words belong in internal/provider", file, i+1, m)
			}
		}
	}
}
