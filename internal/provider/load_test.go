package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
)

// loadEnv names the environment variable that runs the load tests: they
// take about a minute and run in CI (.ci/run sets it).
const loadEnv = "TF_ACC_LOAD"

// serveProvider serves the provider in process, through the server main
// serves (see acctest.ServeInProcess), for a terraform run of the test's own
// and returns how to reattach to it.
func serveProvider(t *testing.T) tfexec.ReattachInfo {
	t.Helper()
	var info tfexec.ReattachInfo
	if err := json.Unmarshal([]byte(acctest.ServeInProcess(t)), &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// A steady rate limit below the parallelism fails nothing: 160 agents at
// -parallelism=20 against limits of 10 and of 3 requests per second apply
// with zero errors, every throttled request waited out.
func TestAccLoad_rateLimitedApply(t *testing.T) {
	if os.Getenv(loadEnv) == "" {
		t.Skipf("set %s=1 to run the load tests (about a minute)", loadEnv)
	}
	for _, perSecond := range []int{10, 3} {
		t.Run(fmt.Sprintf("%d_per_second", perSecond), func(t *testing.T) {
			env := acctest.New(t)
			dir := t.TempDir()
			var hcl strings.Builder
			fmt.Fprintf(&hcl, `
terraform {
  required_providers {
    gitlabagent = {
      source = "%s/gitlabagent/gitlabagent"
    }
  }
}
`, acctest.ProviderHost())
			hcl.WriteString(env.Config(""))
			fmt.Fprintf(&hcl, `
resource "gitlabagent_cluster_agent" "load" {
  count   = 160
  project = %q
  name    = "load-${count.index}"
}
`, acctest.ProjectPath)
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			tf, err := tfexec.NewTerraform(dir, os.Getenv("TF_ACC_TERRAFORM_PATH"))
			if err != nil {
				t.Fatal(err)
			}
			reattach := tfexec.Reattach(serveProvider(t))
			ctx := context.Background()
			if err := tf.Init(ctx, reattach); err != nil {
				t.Fatalf("terraform init: %v", err)
			}
			env.Mock.SetRateLimit(perSecond, time.Second)
			start := time.Now()
			if err := tf.Apply(ctx, reattach, tfexec.Parallelism(20)); err != nil {
				t.Fatalf("terraform apply -parallelism=20 under %d requests/s: %v", perSecond, err)
			}
			t.Logf("160 creates under %d requests/s took %v", perSecond, time.Since(start))
			if n := len(env.Mock.Agents(acctest.ProjectID)); n != 160 {
				t.Errorf("%d agents, want 160", n)
			}
			throttled := 0
			var first, last time.Time
			for _, r := range env.Mock.Requests() {
				if r.At.Before(start) {
					continue
				}
				if first.IsZero() {
					first = r.At
				}
				last = r.At
				if r.Status == 429 {
					throttled++
				}
			}
			if throttled == 0 {
				t.Error("no request was throttled: the test did not exercise the rate limit")
			}
			// The requests go at GitLab's rate: first to last within 5 % of N/rate.
			floor := 160 * time.Second / time.Duration(perSecond)
			t.Logf("requests first to last: %v, %d answered 429", last.Sub(first), throttled)
			if took := last.Sub(first); took > floor*105/100 {
				t.Errorf("the requests took %v from first to last, more than 5 %% above N/rate = %v", took, floor)
			}
			env.Mock.SetRateLimit(0, 0)
			if err := tf.Destroy(ctx, reattach, tfexec.Parallelism(20), tfexec.Refresh(false)); err != nil {
				t.Fatalf("terraform destroy: %v", err)
			}
			if n := len(env.Mock.Agents(acctest.ProjectID)); n != 0 {
				t.Errorf("%d agents left after destroy", n)
			}
		})
	}
}
