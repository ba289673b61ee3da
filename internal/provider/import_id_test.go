package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// Import IDs and `project` values that cannot be a GitLab path or ID are
// refused at plan, naming what is wrong and the form expected, with no
// request. Values are written as HCL string contents (with HCL's escapes).
func TestAccImportIDsAndProjectsThatCannotBeGitLabs(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	importing := func(to, id string) string {
		return fmt.Sprintf(`
import {
  to = %s
  id = "%s"
}
`, to, id) + agentConfig(acctest.ProjectPath, "imported") + tokenConfig{agentID: 1, outputOnly: true}.hcl()
	}
	project := func(p string) string {
		return fmt.Sprintf(`
resource "gitlabagent_cluster_agent" "test" {
  project = "%s"
  name    = "valid"
}
`, p)
	}
	var steps []resource.TestStep
	for _, tc := range []struct {
		config string
		want   []string
	}{
		{importing(agentResource, `root/te\u0000st:1`), []string{"Invalid import ID", "control character"}},
		{importing(agentResource, `root/te\tst:1`), []string{"Invalid import ID", "control character"}},
		{importing(agentResource, `root//test:1`), []string{"Invalid import ID", "doubled slashes"}},
		{importing(agentResource, `root/../test:1`), []string{"Invalid import ID", `never named ".."`}},
		{importing(agentResource, `root/test:1.5`), []string{"Invalid import ID",
			`agent_id "1.5" is not a GitLab ID, a whole number from 1 to 9223372036854775807`}},
		{importing(agentResource, `root/test:99999999999999999999`), []string{"Invalid import ID", "is not a GitLab ID"}},
		{importing(tokenResource, `root/test:1:`), []string{"Invalid import ID", `token_id "" is not a GitLab ID`}},
		{project(`root/te\u0000st`), []string{"Invalid project", "control character"}},
		{project(`root/te\rst`), []string{"Invalid project", "control character"}},
		{project(`root/test\n`), []string{"Invalid project", "leading or trailing spaces"}},
		{project(`root//test`), []string{"Invalid project", "doubled slashes"}},
		{project(`./test`), []string{"Invalid project", `never named "."`}},
	} {
		steps = append(steps, resource.TestStep{
			Config:      env.Config(tc.config),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp(tc.want...),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
	if reqs := env.Mock.Requests(); len(reqs) != 0 {
		t.Errorf("import IDs and projects that cannot be GitLab's reached GitLab: %v", reqs)
	}
}
