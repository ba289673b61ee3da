package acctest

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
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
	preCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig)
	closed := make(chan struct{})
	address := ProviderHost() + "/gitlabagent/gitlabagent"
	go func() {
		err := tf6server.Serve(address, provider.NewServer(provider.New("test")()),
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
	info, err := json.Marshal(map[string]any{address: map[string]any{
		"Protocol":        config.Protocol,
		"ProtocolVersion": config.ProtocolVersion,
		"Pid":             config.Pid,
		"Test":            true,
		"Addr":            map[string]string{"Network": config.Addr.Network(), "String": config.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(info)
}
