package acctest

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// ServeInProcess serves the provider in this process for a terraform (or
// tofu) command run by the test, and returns the TF_REATTACH_PROVIDERS value
// that points the command at it. The provider is known as
// <ProviderHost()>/gitlabagent/gitlabagent: configurations must require it
// with that source, written in full (OpenTofu and Terraform resolve a short
// source on different registries).
func ServeInProcess(t *testing.T) string {
	t.Helper()
	return ServeInProcessWith(t, nil)
}

// ServeInProcessWith is ServeInProcess serving other providers too, by type
// name (e.g. "k8sprobe" for KubernetesProbe), each known as
// <ProviderHost()>/gitlabagent/<type name>.
func ServeInProcessWith(t *testing.T, others map[string]func() (tfprotov6.ProviderServer, error)) string {
	t.Helper()
	servers := map[string]func() (tfprotov6.ProviderServer, error){
		"gitlabagent": func() (tfprotov6.ProviderServer, error) { return provider.NewServer(provider.New("test")())(), nil },
	}
	for name, factory := range others {
		servers[name] = factory
	}
	return ServeProvidersInProcess(t, servers)
}

// ServeProvidersInProcess serves exactly the given providers, by type name, as ServeInProcessWith does.
func ServeProvidersInProcess(t *testing.T, servers map[string]func() (tfprotov6.ProviderServer, error)) string {
	t.Helper()
	PreCheck(t)
	entries := map[string]any{}
	for name, factory := range servers {
		server, err := factory()
		if err != nil {
			t.Fatal(err)
		}
		address := ProviderHost() + "/gitlabagent/" + name
		entries[address] = serveForReattach(t, address, server)
	}
	info, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return string(info)
}

// serveForReattach serves one provider until the test ends and returns its
// TF_REATTACH_PROVIDERS entry.
func serveForReattach(t *testing.T, address string, server tfprotov6.ProviderServer) map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(address, func() tfprotov6.ProviderServer { return server },
			tf6server.WithDebug(ctx, reattach, closed),
			tf6server.WithGoPluginLogger(hclog.New(&hclog.LoggerOptions{Output: io.Discard})),
			tf6server.WithoutLogStderrOverride(), tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-closed
	})
	config := <-reattach
	return map[string]any{
		"Protocol":        config.Protocol,
		"ProtocolVersion": config.ProtocolVersion,
		"Pid":             config.Pid,
		"Test":            true,
		"Addr":            map[string]string{"Network": config.Addr.Network(), "String": config.Addr.String()},
	}
}
