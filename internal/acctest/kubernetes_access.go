package acctest

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// KubernetesAccessType is the ephemeral resource that reaches clusters through their agents.
const KubernetesAccessType = "gitlabagent_cluster_agent_kubernetes_access"

// UserAccessConfig is an agent configuration whose user_access lets the Developers (and Maintainers) of
// root/test reach the cluster as the agent.
const UserAccessConfig = `user_access:
  access_as:
    agent: {}
  projects:
    - id: root/test
`

// AllowKubernetesAccess makes an agent of root/test reachable through the mock's Kubernetes API proxy
// by the project's Developers and Maintainers: it commits the agent's configuration with UserAccessConfig,
// as its Maintainer would, and connects an agentk.
func (e *Env) AllowKubernetesAccess(t *testing.T, agentID int64) {
	t.Helper()
	a, ok := e.Mock.Agent(agentID)
	if !ok {
		t.Fatalf("agent %d is not in the mock", agentID)
	}
	path := ".gitlab/agents/" + a.Name + "/config.yaml"
	if _, err := e.Mock.PushFile(a.ProjectID, path, []byte(UserAccessConfig), "maintainer", "Let the project's developers reach the cluster"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Mock.ConnectAgent(agentID, mockgitlab.AgentConnection{}); err != nil {
		t.Fatal(err)
	}
}

// ProxyURL is the mock's Kubernetes API proxy URL, as GET /metadata gives it by default.
func (e *Env) ProxyURL() string {
	info := e.Mock.KAS(e.BaseURL)
	if info.ExternalK8sProxyURL == nil {
		return ""
	}
	return *info.ExternalK8sProxyURL
}

// OpenEphemeral opens an ephemeral resource with the given configuration (attributes not given are
// null), as Terraform does, and returns its result, its private data and the diagnostics.
func (p *Protocol) OpenEphemeral(typeName string, config map[string]tftypes.Value) (tftypes.Value, []byte, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	s := p.ephemeralSchema(typeName)
	resp, err := p.server.OpenEphemeralResource(context.Background(), &tfprotov6.OpenEphemeralResourceRequest{
		TypeName: typeName,
		Config:   dynamicValue(p.t, objectOf(s, config)),
	})
	if err != nil {
		p.t.Fatal(err)
	}
	result := tftypes.NewValue(s.ValueType(), nil)
	if resp.Result != nil {
		if result, err = resp.Result.Unmarshal(s.ValueType()); err != nil {
			p.t.Fatal(err)
		}
	}
	return result, resp.Private, resp.Diagnostics
}

// CloseEphemeral closes an ephemeral resource opened with the given private data.
func (p *Protocol) CloseEphemeral(typeName string, private []byte) []*tfprotov6.Diagnostic {
	p.t.Helper()
	resp, err := p.server.CloseEphemeralResource(context.Background(), &tfprotov6.CloseEphemeralResourceRequest{
		TypeName: typeName,
		Private:  private,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Diagnostics
}

func (p *Protocol) ephemeralSchema(typeName string) *tfprotov6.Schema {
	p.t.Helper()
	resp, err := p.server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		p.t.Fatal(err)
	}
	s, ok := resp.EphemeralResourceSchemas[typeName]
	if !ok {
		p.t.Fatalf("the provider has no ephemeral resource %s", typeName)
	}
	return s
}

// PlansListEphemeralResources reports whether the binary under test lists ephemeral resources among a
// plan's resource changes: OpenTofu does, with the action "open", which terraform-plugin-testing counts
// as a change, so that a plan after apply is never empty there; Terraform does not.
func PlansListEphemeralResources() bool {
	return ProviderHost() == openTofuRegistry
}
