package provider_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
)

const (
	urlConfigResource     = "gitlabagent_cluster_agent_url_configuration.test"
	urlConfigType         = "gitlabagent_cluster_agent_url_configuration"
	urlConfigsGlob        = "/api/v4/projects/*/cluster_agents/*/url_configurations"
	urlConfigGlob         = "/api/v4/projects/*/cluster_agents/*/url_configurations/*"
	receptiveURL          = "grpcs://agent.example.com:4242"
	receptiveUnavailable  = "Receptive agents are not available"
	receptiveSettingFixed = "receptive_cluster_agents_enabled"
)

// urlConfigHCL renders a gitlabagent_cluster_agent_url_configuration "test"
// block; attrs values are HCL expressions, strings are quoted by hclString.
func urlConfigHCL(attrs map[string]string) string {
	var b strings.Builder
	b.WriteString("\nresource \"gitlabagent_cluster_agent_url_configuration\" \"test\" {\n")
	for _, name := range []string{"project", "agent_id", "url", "ca_cert", "tls_host", "client_cert", "client_key",
		"client_key_wo", "client_key_wo_version", "depends_on"} {
		if v, ok := attrs[name]; ok {
			fmt.Fprintf(&b, "  %s = %s\n", name, v)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// hclString quotes s as an HCL string literal (PEM included).
func hclString(s string) string { return strconv.Quote(s) }

func hclInt(n int64) string { return strconv.FormatInt(n, 10) }

// mockAgent registers an agent out of band in the default project.
func mockAgent(t *testing.T, env *acctest.Env, name string) int64 {
	t.Helper()
	a, err := env.Mock.CreateAgent(acctest.ProjectID, name, acctest.MaintainerUserID)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// createURLConfigOutOfBand creates a URL configuration through the API, as
// someone else would.
func createURLConfigOutOfBand(t *testing.T, env *acctest.Env, agentID int64, opt *gitlab.CreateURLConfigurationOptions) *gitlab.URLConfiguration {
	t.Helper()
	c, err := gitlab.New(gitlab.Config{BaseURL: env.BaseURL, Token: acctest.MaintainerToken})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateURLConfiguration(context.Background(), acctest.ProjectPath, agentID, opt)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// checkMockKey compares the client key GitLab received with want, without
// printing either.
func checkMockKey(env *acctest.Env, agentID func() int64, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		info, ok := env.Mock.URLConfiguration(agentID())
		switch {
		case !ok:
			return fmt.Errorf("agent %d has no URL configuration in the mock", agentID())
		case info.ClientKey == nil:
			return fmt.Errorf("the mock's configuration %d has no client key", info.ID)
		case *info.ClientKey != want:
			return fmt.Errorf("the mock's configuration %d holds another client key than the one configured (not shown)", info.ID)
		}
		return nil
	}
}

// checkStateKey compares client_key in state with want, without printing either.
func checkStateKey(want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		got, err := acctest.Attribute(s, urlConfigResource, "client_key")
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("client_key in state (%d bytes) differs from the configured key (not shown)", len(got))
		}
		return nil
	}
}

// checkNoSecretInState scans every attribute of every resource in state.
func checkNoSecretInState(fingerprint string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, m := range s.Modules {
			for addr, rs := range m.Resources {
				if rs.Primary == nil {
					continue
				}
				for k, v := range rs.Primary.Attributes {
					if strings.Contains(v, fingerprint) {
						return fmt.Errorf("%s.%s holds the write-only client key (not shown)", addr, k)
					}
				}
			}
		}
		return nil
	}
}

// secretAbsent is a plan check and a state check: the JSON plan or state, as
// `terraform show -json` renders them, must not contain the fingerprint.
type secretAbsent struct{ fingerprint string }

func (c secretAbsent) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.scan("plan", req.Plan)
}

func (c secretAbsent) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c.scan("state", req.State)
}

func (c secretAbsent) scan(what string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(data) < 100 {
		return fmt.Errorf("the %s is suspiciously small (%d bytes)", what, len(data))
	}
	if bytes.Contains(data, []byte(c.fingerprint)) {
		return fmt.Errorf("the %s contains the write-only client key (not shown)", what)
	}
	return nil
}

func TestAccClusterAgentURLConfiguration_jwt(t *testing.T) {
	env := acctest.New(t)
	ca := acctest.NewCA(t, "agent-server-ca")
	var agentID, firstID int64
	config := func(project string, extra string) string {
		return env.Config(`
resource "gitlabagent_cluster_agent" "test" {
  project = "root/test"
  name    = "receptive"
}
` + urlConfigHCL(map[string]string{
			"project":  hclString(project),
			"agent_id": "gitlabagent_cluster_agent.test.agent_id",
			"url":      hclString(receptiveURL),
			"ca_cert":  hclString(ca.CertPEM),
			"tls_host": hclString("agent.internal"),
		}) + `
data "gitlabagent_cluster_agent" "after" {
  project    = "root/test"
  agent_id   = gitlabagent_cluster_agent.test.agent_id
  depends_on = [gitlabagent_cluster_agent_url_configuration.test]
}
` + extra)
	}
	checkAgainstMock := func(s *terraform.State) error {
		info, ok := env.Mock.URLConfiguration(agentID)
		if !ok {
			return fmt.Errorf("agent %d has no URL configuration in the mock", agentID)
		}
		if info.PublicKey == nil {
			return fmt.Errorf("the mock's configuration has no public key")
		}
		want := map[string]string{
			"url_configuration_id": strconv.FormatInt(info.ID, 10),
			"id":                   fmt.Sprintf("20:%d:%d", agentID, info.ID),
			"public_key":           *info.PublicKey,
			"url":                  info.URL,
		}
		for attr, w := range want {
			got, err := acctest.Attribute(s, urlConfigResource, attr)
			if err != nil {
				return err
			}
			if got != w {
				return fmt.Errorf("%s = %q, want %q (the mock's)", attr, got, w)
			}
		}
		raw, err := base64.StdEncoding.DecodeString(*info.PublicKey)
		if err != nil {
			return fmt.Errorf("public_key is not Base64: %w", err)
		}
		if len(raw) != 32 {
			return fmt.Errorf("public_key decodes to %d bytes, want 32 (an Ed25519 public key)", len(raw))
		}
		return nil
	}
	sameConfig := statecheck.CompareValue(compare.ValuesSame())
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: config(acctest.ProjectPath, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("auth_type"), knownvalue.StringExact("jwt")),
						plancheck.ExpectUnknownValue(urlConfigResource, tfjsonpath.New("public_key")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("auth_type"), knownvalue.StringExact("jwt")),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("public_key"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`))),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_cert"), knownvalue.Null()),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("ca_cert"), knownvalue.StringExact(ca.CertPEM)),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("tls_host"), knownvalue.StringExact("agent.internal")),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("url"), knownvalue.StringExact(receptiveURL)),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("project"), knownvalue.StringExact(acctest.ProjectPath)),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
					// Read after the configuration, in the same apply, the agent is receptive.
					statecheck.ExpectKnownValue("data.gitlabagent_cluster_agent.after", tfjsonpath.New("is_receptive"), knownvalue.Bool(true)),
					sameConfig.AddStateValue(urlConfigResource, tfjsonpath.New("url_configuration_id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) (err error) {
						agentID, err = acctest.Int64Attribute(s, urlConfigResource, "agent_id")
						if err == nil {
							firstID, err = acctest.Int64Attribute(s, urlConfigResource, "url_configuration_id")
						}
						return err
					},
					checkAgainstMock,
					// Create is one POST and no read-back.
					env.ExpectRequests("POST", urlConfigsGlob, 1),
					env.ExpectRequests("GET", urlConfigGlob, 0),
				),
			},
			{
				ResourceName:      urlConfigResource,
				ImportState:       true,
				ImportStateIdFunc: acctest.ImportIDFunc(urlConfigResource, acctest.ProjectPath, "agent_id", "url_configuration_id"),
				ImportStateVerify: true,
			},
			{
				// Same project written as its ID: state only, nothing sent to GitLab.
				Config: config("20", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameConfig.AddStateValue(urlConfigResource, tfjsonpath.New("url_configuration_id")),
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("project"), knownvalue.StringExact("20")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					env.ExpectRequests("POST", urlConfigsGlob, 1),
					env.ExpectRequests("DELETE", urlConfigGlob, 0),
				),
			},
			{
				// Deleted in GitLab: removed from state at refresh, created again.
				PreConfig: func() {
					if err := env.Mock.DeleteURLConfiguration(agentID); err != nil {
						t.Fatal(err)
					}
				},
				Config: config("20", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAgainstMock,
					func(s *terraform.State) error {
						id, err := acctest.Int64Attribute(s, urlConfigResource, "url_configuration_id")
						if err == nil && id == firstID {
							err = fmt.Errorf("url_configuration_id is still %d after re-creation", id)
						}
						return err
					},
					env.ExpectRequests("POST", urlConfigsGlob, 2),
				),
			},
			{
				// Changing an input replaces.
				Config: strings.Replace(config("20", ""), receptiveURL, "grpc://agent.example.com:8080", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAgainstMock,
					env.ExpectRequests("DELETE", urlConfigGlob, 1),
				),
			},
		},
	})
	if _, ok := env.Mock.URLConfiguration(agentID); ok {
		t.Error("destroy left the URL configuration in the mock GitLab")
	}
}

func TestAccClusterAgentURLConfiguration_mtls(t *testing.T) {
	env := acctest.New(t)
	agentID := mockAgent(t, env, "mtls")
	ca := acctest.NewCA(t, "kas-client-ca")
	first := ca.ClientCertificate(t, "gitlab-kas", acctest.ECDSASEC1)
	second := ca.ClientCertificate(t, "gitlab-kas-2", acctest.RSAPKCS1)
	config := func(c acctest.Certificate) string {
		return env.Config(urlConfigHCL(map[string]string{
			"project":     hclString(acctest.ProjectPath),
			"agent_id":    hclInt(agentID),
			"url":         hclString(receptiveURL),
			"ca_cert":     hclString(ca.CertPEM),
			"client_cert": hclString(c.CertPEM),
			"client_key":  hclString(c.KeyPEM),
		}))
	}
	mtlsChecks := func(c acctest.Certificate) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("auth_type"), knownvalue.StringExact("mtls")),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("public_key"), knownvalue.Null()),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_cert"), knownvalue.StringExact(c.CertPEM)),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_key_wo"), knownvalue.Null()),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("tls_host"), knownvalue.Null()),
		}
	}
	agent := func() int64 { return agentID }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: config(first),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectSensitiveValue(urlConfigResource, tfjsonpath.New("client_key")),
						plancheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("auth_type"), knownvalue.StringExact("mtls")),
						plancheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("public_key"), knownvalue.Null()),
					},
				},
				ConfigStateChecks: mtlsChecks(first),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkMockKey(env, agent, first.KeyPEM),
					checkStateKey(first.KeyPEM),
				),
			},
			{
				ResourceName:            urlConfigResource,
				ImportState:             true,
				ImportStateIdFunc:       acctest.ImportIDFunc(urlConfigResource, "20", "agent_id", "url_configuration_id"),
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"client_key", "project"},
			},
			{
				// A new certificate and key replace the configuration.
				Config: config(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectSensitiveValue(urlConfigResource, tfjsonpath.New("client_key")),
					},
				},
				ConfigStateChecks: mtlsChecks(second),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkMockKey(env, agent, second.KeyPEM),
					checkStateKey(second.KeyPEM),
				),
			},
		},
	})
}

func TestAccClusterAgentURLConfiguration_writeOnlyKey(t *testing.T) {
	env := acctest.New(t)
	agentID := mockAgent(t, env, "write-only")
	ca := acctest.NewCA(t, "kas-client-ca")
	c := ca.ClientCertificate(t, "gitlab-kas", acctest.RSAPKCS8)
	fingerprint := acctest.KeyFingerprint(c.KeyPEM)
	// The key comes from an ephemeral variable, as it would in real use: a
	// literal in configuration would show in the plan's copy of the
	// configuration, whatever the attribute.
	hcl := func(version int64) string {
		return env.Config(`
variable "client_key" {
  type      = string
  ephemeral = true
  sensitive = true
}
` + urlConfigHCL(map[string]string{
			"project":               hclString(acctest.ProjectPath),
			"agent_id":              hclInt(agentID),
			"url":                   hclString(receptiveURL),
			"client_cert":           hclString(c.CertPEM),
			"client_key_wo":         "var.client_key",
			"client_key_wo_version": hclInt(version),
		}))
	}
	variables := config.Variables{"client_key": config.StringVariable(c.KeyPEM)}
	noKey := secretAbsent{fingerprint: fingerprint}
	agent := func() int64 { return agentID }
	var firstID int64
	stateChecks := func(version int64) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			noKey,
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_key_wo"), knownvalue.Null()),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_key"), knownvalue.Null()),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_key_wo_version"), knownvalue.Int64Exact(version)),
			statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("auth_type"), knownvalue.StringExact("mtls")),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:          hcl(1),
				ConfigVariables: variables,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						noKey,
						plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("client_key_wo"), knownvalue.Null()),
					},
				},
				ConfigStateChecks: stateChecks(1),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkNoSecretInState(fingerprint),
					checkMockKey(env, agent, c.KeyPEM),
					func(s *terraform.State) (err error) {
						firstID, err = acctest.Int64Attribute(s, urlConfigResource, "url_configuration_id")
						return err
					},
				),
			},
			{
				// The write-only value is not compared: nothing to do.
				Config:          hcl(1),
				ConfigVariables: variables,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), noKey},
				},
			},
			{
				// A new version sends the key again to a new configuration.
				Config:          hcl(2),
				ConfigVariables: variables,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{noKey, plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: stateChecks(2),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkNoSecretInState(fingerprint),
					checkMockKey(env, agent, c.KeyPEM),
					func(*terraform.State) error {
						if info, _ := env.Mock.URLConfiguration(agentID); info.ID == firstID {
							return fmt.Errorf("the configuration was not replaced (id %d)", info.ID)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccClusterAgentURLConfiguration_importedKeyIsRecordedWithoutReplacing(t *testing.T) {
	env := acctest.New(t)
	agentID := mockAgent(t, env, "imported")
	ca := acctest.NewCA(t, "kas-client-ca")
	c := ca.ClientCertificate(t, "gitlab-kas", acctest.ECDSAPKCS8)
	existing := createURLConfigOutOfBand(t, env, agentID, &gitlab.CreateURLConfigurationOptions{
		URL: receptiveURL, ClientCert: &c.CertPEM, ClientKey: &c.KeyPEM,
	})
	importID := fmt.Sprintf("root/test:%d:%d", agentID, existing.ID)

	// The import says what to do about the key; a key set then plans an
	// update, not a replacement, for client_key and client_key_wo_version alike.
	p := env.Protocol(t, acctest.MaintainerToken)
	imported, private, diags := p.Import(urlConfigType, importID)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	state, private, diags := p.Read(urlConfigType, imported, private)
	if errs := acctest.Errors(diags); errs != "" {
		t.Fatal(errs)
	}
	warnings := acctest.Warnings(diags)
	for _, want := range []string{"Client key not imported", "client_key_wo", "without replacing"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("the import warning does not contain %q:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, acctest.KeyFingerprint(c.KeyPEM)) {
		t.Error("the import warning carries the key")
	}
	base := map[string]tftypes.Value{
		"project":     tftypes.NewValue(tftypes.String, acctest.ProjectPath),
		"agent_id":    tftypes.NewValue(tftypes.Number, new(big.Float).SetInt64(agentID)),
		"url":         tftypes.NewValue(tftypes.String, receptiveURL),
		"client_cert": tftypes.NewValue(tftypes.String, c.CertPEM),
	}
	withKey := func(extra map[string]tftypes.Value) map[string]tftypes.Value {
		out := map[string]tftypes.Value{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for name, cfg := range map[string]map[string]tftypes.Value{
		"client_key": withKey(map[string]tftypes.Value{"client_key": tftypes.NewValue(tftypes.String, c.KeyPEM)}),
		"client_key_wo": withKey(map[string]tftypes.Value{
			"client_key_wo":         tftypes.NewValue(tftypes.String, c.KeyPEM),
			"client_key_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(1)),
		}),
	} {
		plan := p.Plan(urlConfigType, state, private, cfg)
		if errs := acctest.Errors(plan.Diagnostics); errs != "" {
			t.Errorf("%s: %s", name, errs)
		}
		if len(plan.RequiresReplace) != 0 {
			t.Errorf("%s: the first key after an import requires replacement of %v", name, plan.RequiresReplace)
		}
	}

	// The same through Terraform, with an import block.
	env.Mock.ResetRequests()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: env.Config(fmt.Sprintf(`
import {
  to = gitlabagent_cluster_agent_url_configuration.test
  id = %q
}
`, importID) + urlConfigHCL(map[string]string{
					"project":     hclString(acctest.ProjectPath),
					"agent_id":    hclInt(agentID),
					"url":         hclString(receptiveURL),
					"client_cert": hclString(c.CertPEM),
					"client_key":  hclString(c.KeyPEM),
				})),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(urlConfigResource, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(urlConfigResource, tfjsonpath.New("url_configuration_id"), knownvalue.Int64Exact(existing.ID)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStateKey(c.KeyPEM),
					env.ExpectRequests("POST", urlConfigsGlob, 0),
					env.ExpectRequests("DELETE", urlConfigGlob, 0),
				),
			},
		},
	})
}

// validationCase is a configuration GitLab would refuse, and what the plan says.
type validationCase struct {
	name  string
	attrs map[string]string
	want  []string
}

func urlConfigValidationCases(t *testing.T) []validationCase {
	ca := acctest.NewCA(t, "validation-ca")
	c := ca.ClientCertificate(t, "client", acctest.ECDSAPKCS8)
	other := acctest.PrivateKeyPEM(t, acctest.ECDSAPKCS8)
	base := func(extra map[string]string) map[string]string {
		attrs := map[string]string{
			"project":  hclString(acctest.ProjectPath),
			"agent_id": "1",
			"url":      hclString(receptiveURL),
		}
		for k, v := range extra {
			attrs[k] = v
		}
		return attrs
	}
	cert, key := hclString(c.CertPEM), hclString(c.KeyPEM)
	return []validationCase{
		{"https URL", base(map[string]string{"url": `"https://agent.example.com"`}), []string{"Invalid receptive agent URL", `scheme "https"`, "grpcs://agent.example.com:4242"}},
		{"URL without host", base(map[string]string{"url": `"grpcs://"`}), []string{"Invalid receptive agent URL", "has no host"}},
		{"URL without scheme", base(map[string]string{"url": `"agent.example.com:4242"`}), []string{"Invalid receptive agent URL", "gRPC"}},
		{"ca_cert not PEM", base(map[string]string{"ca_cert": `"not a certificate"`}), []string{"Invalid PEM certificate", "no PEM certificate found"}},
		{"client_cert not PEM", base(map[string]string{"client_cert": `"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"`, "client_key": key}), []string{"Invalid PEM certificate", "does not parse"}},
		{"client_key not PEM", base(map[string]string{"client_cert": cert, "client_key": `"secret"`}), []string{"Invalid PEM private key", "no PEM block found"}},
		{"client_key encrypted", base(map[string]string{"client_cert": cert, "client_key": hclString(acctest.EncryptedPrivateKeyPEM(t))}), []string{"Invalid PEM private key", "encrypted", "openssl pkey"}},
		{"client_key is a certificate", base(map[string]string{"client_cert": cert, "client_key": cert}), []string{"Invalid PEM private key", `"CERTIFICATE"`, "no private key"}},
		{"client_key_wo not PEM", base(map[string]string{"client_cert": cert, "client_key_wo": `"secret"`}), []string{"Invalid PEM private key", "client_key_wo"}},
		{"client_key of another certificate", base(map[string]string{"client_cert": cert, "client_key": hclString(other)}), []string{"Client key does not match client_cert", "client_key", "CN=client"}},
		{"client_key_wo of another certificate", base(map[string]string{"client_cert": cert, "client_key_wo": hclString(other)}), []string{"Client key does not match client_cert", "client_key_wo"}},
		{"client_cert without key", base(map[string]string{"client_cert": cert}), []string{"client_cert without its key", "client_key_wo"}},
		{"client_key without client_cert", base(map[string]string{"client_key": key}), []string{"Client key without client_cert", "set `client_cert`"}},
		{"client_key_wo without client_cert", base(map[string]string{"client_key_wo": key}), []string{"Client key without client_cert", "client_key_wo"}},
		{"both keys", base(map[string]string{"client_cert": cert, "client_key": key, "client_key_wo": key}), []string{"Conflicting client keys", "set only one"}},
		{"version without client_key_wo", base(map[string]string{"client_cert": cert, "client_key": key, "client_key_wo_version": "1"}), []string{"client_key_wo_version without client_key_wo"}},
		{"tls_host URL", base(map[string]string{"tls_host": `"https://agent.example.com/path"`}), []string{"Invalid TLS host name", "has a scheme"}},
		{"tls_host with port", base(map[string]string{"tls_host": `"agent.example.com:443"`}), []string{"Invalid TLS host name", "has a port"}},
		{"tls_host empty", base(map[string]string{"tls_host": `""`}), []string{"Invalid TLS host name", "omit tls_host"}},
		{"agent_id zero", base(map[string]string{"agent_id": "0"}), []string{"agent_id", "at least 1"}},
	}
}

func TestAccClusterAgentURLConfiguration_validationAtPlan(t *testing.T) {
	env := acctest.New(t)
	var steps []resource.TestStep
	for _, tc := range urlConfigValidationCases(t) {
		steps = append(steps, resource.TestStep{
			Config:      env.Config(urlConfigHCL(tc.attrs)),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp(tc.want...),
		})
	}
	// Every key format GitLab takes, and a certificate chain, pass.
	ca := acctest.NewCA(t, "formats-ca")
	for _, format := range []acctest.KeyFormat{acctest.RSAPKCS1, acctest.ECDSASEC1, acctest.Ed25519PKCS8} {
		c := ca.ClientCertificate(t, "client", format)
		steps = append(steps, resource.TestStep{
			Config: env.Config(urlConfigHCL(map[string]string{
				"project":     hclString(acctest.ProjectPath),
				"agent_id":    "1",
				"url":         hclString("grpc://10.0.0.1:4242"),
				"tls_host":    hclString("agent.internal"),
				"ca_cert":     hclString(ca.CertPEM),
				"client_cert": hclString(c.CertPEM + ca.CertPEM),
				"client_key":  hclString(c.KeyPEM),
			})),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		})
	}
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories(), Steps: steps})
	if reqs := env.Mock.Requests(); len(reqs) != 0 {
		t.Errorf("planning reached GitLab: %v", reqs)
	}
}

func TestAccClusterAgentURLConfiguration_gitlabErrors(t *testing.T) {
	env := acctest.New(t)
	agentID := mockAgent(t, env, "errors")
	jwt := urlConfigHCL(map[string]string{
		"project":  hclString(acctest.ProjectPath),
		"agent_id": hclInt(agentID),
		"url":      hclString(receptiveURL),
	})
	var existing *gitlab.URLConfiguration
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { env.Mock.SetReceptiveAgents(false) },
				Config:      env.Config(jwt),
				ExpectError: acctest.ErrorRegexp(receptiveUnavailable, "no Ultimate licence, or "+receptiveSettingFixed+" is off", "17.4", "GitLab Ultimate", "Admin > Settings > General > GitLab agent for Kubernetes"),
			},
			{
				PreConfig: func() {
					env.Mock.SetReceptiveAgents(true)
					existing = createURLConfigOutOfBand(t, env, agentID, &gitlab.CreateURLConfigurationOptions{URL: "grpcs://other.example.com"})
				},
				Config: env.Config(jwt),
				ExpectError: regexp.MustCompile(fmt.Sprintf(`already has a URL configuration(?s:.*)url_configuration_id \d+(?s:.*)`+
					`terraform import\s+gitlabagent_cluster_agent_url_configuration.<name>\s+root/test:%d:\d+`, agentID)),
			},
			{
				Config:      env.ProviderBlock(acctest.DeveloperToken) + jwt,
				ExpectError: acctest.ErrorRegexp("403 Forbidden", "Maintainer role", "reads included"),
			},
		},
	})
	// The import hint names the configuration that exists.
	info, ok := env.Mock.URLConfiguration(agentID)
	if !ok || existing == nil || info.ID != existing.ID || info.URL != "grpcs://other.example.com" {
		t.Errorf("the out-of-band configuration changed: %+v", info)
	}
}

func TestAccClusterAgentURLConfiguration_receptiveAgentsTurnedOff(t *testing.T) {
	env := acctest.New(t)
	agentID := mockAgent(t, env, "gated")
	config := env.Config(urlConfigHCL(map[string]string{
		"project":  hclString(acctest.ProjectPath),
		"agent_id": hclInt(agentID),
		"url":      hclString(receptiveURL),
	}))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{Config: config},
			{
				// GitLab answers 404 for the configuration: not taken for a deletion.
				PreConfig:   func() { env.Mock.SetReceptiveAgents(false) },
				Config:      config,
				ExpectError: acctest.ErrorRegexp(receptiveUnavailable, "read URL configuration", receptiveSettingFixed),
			},
			{
				PreConfig: func() { env.Mock.SetReceptiveAgents(true) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}
