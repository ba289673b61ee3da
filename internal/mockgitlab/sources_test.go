package mockgitlab

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The mock cites GitLab's own source for what it imitates, never a file
// outside this repository, which a reader of the repository cannot open.
func TestSourcesCiteNothingOutsideTheRepository(t *testing.T) {
	outside := regexp.MustCompile(`(^|[^.])\.\./[A-Za-z_]|shared/reference|gitlab-behaviour\.md|gitlab-bootstrap-apis\.md|cluster-agents-api\.md`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".go" || path == "sources_test.go" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := outside.Find(data); m != nil {
			t.Errorf("%s cites %q, which is not in the repository: cite GitLab's source instead", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
