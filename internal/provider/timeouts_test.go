package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

var allThreeAddresses = []string{agentAddress, tokenResource, urlConfigAddress}

// updatedInPlace plans an in-place update of all three resources.
func updatedInPlace() resource.ConfigPlanChecks {
	var checks []plancheck.PlanCheck
	for _, a := range allThreeAddresses {
		checks = append(checks, plancheck.ExpectResourceAction(a, plancheck.ResourceActionUpdate))
	}
	return resource.ConfigPlanChecks{PreApply: checks}
}

// timeoutsIn checks the timeouts block of all three resources in state.
func timeoutsIn(create string) []statecheck.StateCheck {
	var checks []statecheck.StateCheck
	for _, a := range allThreeAddresses {
		var want knownvalue.Check = knownvalue.Null()
		if create != "" {
			want = knownvalue.ObjectPartial(map[string]knownvalue.Check{"create": knownvalue.StringExact(create)})
		}
		checks = append(checks, statecheck.ExpectKnownValue(a, tfjsonpath.New("timeouts"), want))
	}
	return checks
}

// noWrites fails if GitLab saw other writes than want POSTs and no DELETE.
func noWrites(env *acctest.Env, posts int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := countMethod(env, http.MethodPost); n != posts {
			return fmt.Errorf("GitLab saw %d POSTs, want %d", n, posts)
		}
		if n := countMethod(env, http.MethodDelete); n != 0 {
			return fmt.Errorf("GitLab saw %d DELETEs, want none", n)
		}
		return nil
	}
}

// Adding, changing and removing `timeouts` is an update of state alone, on
// all three resources: no request changes anything in GitLab.
func TestAccTimeouts_addChangeRemove(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy:             nothingLeft(env),
		Steps: []resource.TestStep{
			{Config: env.Config(allThreeHCL("")), ConfigStateChecks: timeoutsIn("")},
			{
				Config:            env.Config(allThreeHCL(`timeouts { create = "30m" }`)),
				ConfigPlanChecks:  updatedInPlace(),
				ConfigStateChecks: timeoutsIn("30m"),
				Check:             resource.ComposeAggregateTestCheckFunc(noWrites(env, 3), allThreeAgree(env)),
			},
			{
				Config: env.Config(allThreeHCL(`
  timeouts {
    create = "2s"
    read   = "5m"
  }`)),
				ConfigPlanChecks:  updatedInPlace(),
				ConfigStateChecks: timeoutsIn("2s"),
				Check:             resource.ComposeAggregateTestCheckFunc(noWrites(env, 3), allThreeAgree(env)),
			},
			{
				Config:            env.Config(allThreeHCL("")),
				ConfigPlanChecks:  updatedInPlace(),
				ConfigStateChecks: timeoutsIn(""),
				Check:             resource.ComposeAggregateTestCheckFunc(noWrites(env, 3), allThreeAgree(env)),
			},
			{
				Config: env.Config(allThreeHCL("")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// After an import, whose state has no `timeouts`, the configured block is
// taken in by an update of state alone, and can change again.
func TestAccTimeouts_afterImport(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	env.Mock.SetReceptiveAgents(true)
	agent, err := env.Mock.CreateAgent(acctest.ProjectID, "answers", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := env.Mock.CreateToken(agent.ID, "cluster", "", acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	client, err := gitlab.New(gitlab.Config{BaseURL: env.BaseURL, Token: acctest.MaintainerToken})
	if err != nil {
		t.Fatal(err)
	}
	u, err := client.CreateURLConfiguration(context.Background(), acctest.ProjectPath, agent.ID,
		&gitlab.CreateURLConfigurationOptions{URL: "grpcs://agent.example.com:4242"})
	if err != nil {
		t.Fatal(err)
	}
	env.Mock.ResetRequests()
	cfg := env.Config(allThreeHCL(`timeouts { create = "30m" }`))
	importStep := func(address, id string) resource.TestStep {
		return resource.TestStep{Config: cfg, ResourceName: address, ImportState: true, ImportStateId: id, ImportStatePersist: true}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		CheckDestroy:             nothingLeft(env),
		Steps: []resource.TestStep{
			importStep(agentAddress, fmt.Sprintf("root/test:%d", agent.ID)),
			importStep(tokenResource, fmt.Sprintf("root/test:%d:%d", agent.ID, tok.ID)),
			importStep(urlConfigAddress, fmt.Sprintf("root/test:%d:%d", agent.ID, u.ID)),
			{
				Config:            cfg,
				ConfigPlanChecks:  updatedInPlace(),
				ConfigStateChecks: timeoutsIn("30m"),
				Check:             resource.ComposeAggregateTestCheckFunc(noWrites(env, 0), allThreeAgree(env)),
			},
			{
				Config:            env.Config(allThreeHCL(`timeouts { create = "45m" }`)),
				ConfigPlanChecks:  updatedInPlace(),
				ConfigStateChecks: timeoutsIn("45m"),
				Check:             resource.ComposeAggregateTestCheckFunc(noWrites(env, 0), allThreeAgree(env)),
			},
		},
	})
}

// Timeouts that cannot work are refused at plan, naming the attribute, with
// no request.
func TestAccTimeouts_refusedAtPlan(t *testing.T) {
	t.Parallel()
	env := acctest.New(t)
	var steps []resource.TestStep
	for _, tc := range []struct{ block, attribute, value string }{
		{`timeouts { create = "0s" }`, "timeouts.create", "0s"},
		{`timeouts { read = "-1s" }`, "timeouts.read", "-1s"},
		{`timeouts { delete = "500ms" }`, "timeouts.delete", "500ms"},
		{`timeouts { create = "soon" }`, "timeouts.create", "soon"},
	} {
		steps = append(steps, resource.TestStep{
			Config:      env.Config(allThreeHCL(tc.block)),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("Invalid timeout", "`"+tc.attribute+"` is \""+tc.value+"\""),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
	if n := len(env.Mock.Requests()); n != 0 {
		t.Errorf("refused timeouts sent %d requests to GitLab", n)
	}
}
