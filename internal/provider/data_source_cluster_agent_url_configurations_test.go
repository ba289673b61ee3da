package provider_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/acctest"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/gitlab"
	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// urlConfigObject is every attribute GitLab returns for a configuration.
func urlConfigObject(u *gitlab.URLConfiguration) map[string]knownvalue.Check {
	optional := func(s *string) knownvalue.Check {
		if s == nil {
			return knownvalue.Null()
		}
		return knownvalue.StringExact(*s)
	}
	return map[string]knownvalue.Check{
		"url_configuration_id": knownvalue.Int64Exact(u.ID),
		"agent_id":             knownvalue.Int64Exact(u.AgentID),
		"url":                  knownvalue.StringExact(u.URL),
		"ca_cert":              optional(u.CACert),
		"tls_host":             optional(u.TLSHost),
		"client_cert":          optional(u.ClientCert),
		"public_key":           optional(u.PublicKey),
		"auth_type":            knownvalue.StringExact(u.AuthType()),
	}
}

// urlConfigDataSourceChecks checks every attribute of the single data source.
func urlConfigDataSourceChecks(address string, projectWritten string, u *gitlab.URLConfiguration) []statecheck.StateCheck {
	checks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("20:%d:%d", u.AgentID, u.ID))),
		statecheck.ExpectKnownValue(address, tfjsonpath.New("project"), knownvalue.StringExact(projectWritten)),
		statecheck.ExpectKnownValue(address, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
	}
	for attr, check := range urlConfigObject(u) {
		checks = append(checks, statecheck.ExpectKnownValue(address, tfjsonpath.New(attr), check))
	}
	return checks
}

func TestAccClusterAgentURLConfigurationDataSources(t *testing.T) {
	env := acctest.New(t)
	ca := acctest.NewCA(t, "receptive-ca")
	client := ca.ClientCertificate(t, "gitlab-kas", acctest.ECDSAPKCS8)
	jwtAgent, mtlsAgent, plainAgent := mockAgent(t, env, "jwt"), mockAgent(t, env, "mtls"), mockAgent(t, env, "plain")
	jwt := createURLConfigOutOfBand(t, env, jwtAgent, &gitlab.CreateURLConfigurationOptions{
		URL: "grpcs://jwt.example.com:4242", CACert: &ca.CertPEM, TLSHost: gitlabString("agent.internal"),
	})
	mtls := createURLConfigOutOfBand(t, env, mtlsAgent, &gitlab.CreateURLConfigurationOptions{
		URL: "grpc://10.1.2.3:8080", ClientCert: &client.CertPEM, ClientKey: &client.KeyPEM,
	})
	hcl := fmt.Sprintf(`
data "gitlabagent_cluster_agent_url_configuration" "jwt" {
  project              = "root/test"
  agent_id             = %[1]d
  url_configuration_id = %[2]d
}

data "gitlabagent_cluster_agent_url_configuration" "mtls" {
  project              = "20"
  agent_id             = %[3]d
  url_configuration_id = %[4]d
}

data "gitlabagent_cluster_agent_url_configurations" "jwt" {
  project  = "root/test"
  agent_id = %[1]d
}

data "gitlabagent_cluster_agent_url_configurations" "mtls" {
  project  = "root/test"
  agent_id = %[3]d
}

data "gitlabagent_cluster_agent_url_configurations" "none" {
  project  = "20"
  agent_id = %[5]d
}

data "gitlabagent_cluster_agents" "all" {
  project = "root/test"
}
`, jwtAgent, jwt.ID, mtlsAgent, mtls.ID, plainAgent)

	checks := append(urlConfigDataSourceChecks("data.gitlabagent_cluster_agent_url_configuration.jwt", "root/test", jwt),
		urlConfigDataSourceChecks("data.gitlabagent_cluster_agent_url_configuration.mtls", "20", mtls)...)
	for name, c := range map[string]struct {
		agentID  int64
		project  string
		elements []knownvalue.Check
	}{
		"jwt":  {jwtAgent, "root/test", []knownvalue.Check{knownvalue.ObjectExact(urlConfigObject(jwt))}},
		"mtls": {mtlsAgent, "root/test", []knownvalue.Check{knownvalue.ObjectExact(urlConfigObject(mtls))}},
		"none": {plainAgent, "20", []knownvalue.Check{}},
	} {
		address := "data.gitlabagent_cluster_agent_url_configurations." + name
		checks = append(checks,
			statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("20:%d", c.agentID))),
			statecheck.ExpectKnownValue(address, tfjsonpath.New("project"), knownvalue.StringExact(c.project)),
			statecheck.ExpectKnownValue(address, tfjsonpath.New("project_id"), knownvalue.Int64Exact(acctest.ProjectID)),
			statecheck.ExpectKnownValue(address, tfjsonpath.New("agent_id"), knownvalue.Int64Exact(c.agentID)),
			statecheck.ExpectKnownValue(address, tfjsonpath.New("url_configurations"), knownvalue.ListExact(c.elements)),
		)
	}
	// Agents are listed by name: jwt, mtls, plain. Receptive means having a configuration.
	for i, receptive := range []bool{true, true, false} {
		checks = append(checks, statecheck.ExpectKnownValue("data.gitlabagent_cluster_agents.all",
			tfjsonpath.New("cluster_agents").AtSliceIndex(i).AtMapKey("is_receptive"), knownvalue.Bool(receptive)))
	}
	if jwt.PublicKey == nil || len(*jwt.PublicKey) != 44 || mtls.PublicKey != nil || mtls.ClientCert == nil {
		t.Fatalf("unexpected configurations: %+v, %+v", jwt, mtls)
	}

	single := fmt.Sprintf(`
data "gitlabagent_cluster_agent_url_configuration" "jwt" {
  project              = "root/test"
  agent_id             = %d
  url_configuration_id = %d
}
`, jwtAgent, jwt.ID)
	list := fmt.Sprintf(`
data "gitlabagent_cluster_agent_url_configurations" "jwt" {
  project  = "root/test"
  agent_id = %d
}
`, jwtAgent)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config:            env.Config(hcl),
				ConfigStateChecks: checks,
				// The client key appears nowhere, not even under another name.
				Check: checkNoSecretInState(acctest.KeyFingerprint(client.KeyPEM)),
			},
			{
				Config:      env.ProviderBlock(acctest.DeveloperToken) + single,
				ExpectError: acctest.ErrorRegexp("403 Forbidden", "Maintainer role", "reads included"),
			},
			{
				Config:      env.ProviderBlock(acctest.DeveloperToken) + list,
				ExpectError: acctest.ErrorRegexp("403 Forbidden", "Maintainer role", "reads included"),
			},
			{
				Config: env.Config(fmt.Sprintf(`
data "gitlabagent_cluster_agent_url_configuration" "missing" {
  project              = "root/test"
  agent_id             = %d
  url_configuration_id = %d
}
`, jwtAgent, mtls.ID)),
				ExpectError: acctest.ErrorRegexp(fmt.Sprintf("has no URL configuration %d: its URL configuration is %d", mtls.ID, jwt.ID)),
			},
			{
				PreConfig:   func() { env.Mock.SetReceptiveAgents(false) },
				Config:      env.Config(single),
				ExpectError: acctest.ErrorRegexp(receptiveUnavailable, receptiveSettingFixed),
			},
			{
				Config:      env.Config(list),
				ExpectError: acctest.ErrorRegexp(receptiveUnavailable, receptiveSettingFixed),
			},
		},
	})
}

func gitlabString(s string) *string { return &s }

// TestClusterAgentURLConfiguration_validationNeverQuotesTheKey validates
// configurations with a bad or mismatched key through the plugin protocol and
// checks that no diagnostic carries the key.
func TestClusterAgentURLConfiguration_validationNeverQuotesTheKey(t *testing.T) {
	t.Parallel()
	server, err := providerserver.NewProtocol6WithError(provider.New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := schemas.ResourceSchemas[urlConfigType].ValueType().(tftypes.Object)

	ca := acctest.NewCA(t, "ca")
	c := ca.ClientCertificate(t, "client", acctest.RSAPKCS1)
	other := acctest.PrivateKeyPEM(t, acctest.ECDSASEC1)
	broken := strings.Replace(c.KeyPEM, "\n", "\nAAAA", 2) // damaged DER inside a valid PEM frame
	for name, tc := range map[string]struct {
		attrs map[string]string
		want  string
	}{
		"mismatched client_key":    {map[string]string{"client_cert": c.CertPEM, "client_key": other}, "does not match"},
		"mismatched client_key_wo": {map[string]string{"client_cert": c.CertPEM, "client_key_wo": other}, "does not match"},
		"damaged client_key":       {map[string]string{"client_cert": c.CertPEM, "client_key": broken}, "does not parse"},
		"key without certificate":  {map[string]string{"client_key": c.KeyPEM}, "without client_cert"},
		"both keys":                {map[string]string{"client_cert": c.CertPEM, "client_key": c.KeyPEM, "client_key_wo": c.KeyPEM}, "Conflicting"},
		"key as client_cert":       {map[string]string{"client_cert": c.KeyPEM, "client_key": c.KeyPEM}, "where certificates were expected"},
		"key as ca_cert":           {map[string]string{"ca_cert": c.KeyPEM}, "where certificates were expected"},
	} {
		t.Run(name, func(t *testing.T) {
			vals := map[string]tftypes.Value{}
			for attr, at := range typ.AttributeTypes {
				vals[attr] = tftypes.NewValue(at, nil)
			}
			vals["project"] = tftypes.NewValue(tftypes.String, acctest.ProjectPath)
			vals["agent_id"] = tftypes.NewValue(tftypes.Number, big.NewFloat(1))
			vals["url"] = tftypes.NewValue(tftypes.String, receptiveURL)
			for attr, v := range tc.attrs {
				vals[attr] = tftypes.NewValue(tftypes.String, v)
			}
			dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{
				TypeName:           urlConfigType,
				Config:             &dv,
				ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			all := acctest.Errors(resp.Diagnostics) + acctest.Warnings(resp.Diagnostics)
			if !strings.Contains(all, tc.want) {
				t.Errorf("diagnostics do not contain %q:\n%s", tc.want, all)
			}
			for _, key := range []string{c.KeyPEM, other} {
				if strings.Contains(all, acctest.KeyFingerprint(key)) {
					t.Error("a diagnostic carries a private key (not shown)")
				}
			}
		})
	}
}
