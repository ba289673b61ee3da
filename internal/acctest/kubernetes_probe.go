package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// KubernetesProbe is a tiny provider, "k8sprobe", that stands in for the kubernetes and helm providers:
// its provider block takes `host` and `token` as they do, and its data source "k8sprobe_namespaces"
// lists the cluster's namespaces through them (GET <host>/api/v1/namespaces with the token as a bearer
// token), as a kubernetes_all_namespaces data source would. It remembers the credentials it was
// configured with, so that a test can try them again after Terraform is done with them; it never logs
// or returns them.
type KubernetesProbe struct {
	mu          sync.Mutex
	credentials []ProbeCredentials
}

// ProbeCredentials is one configuration of the probe.
type ProbeCredentials struct {
	Host, Token, ExpiresAt string
}

// NewKubernetesProbe returns a probe that has not been configured yet.
func NewKubernetesProbe() *KubernetesProbe { return &KubernetesProbe{} }

// Factory serves the probe, as ProtoV6ProviderFactories expects.
func (p *KubernetesProbe) Factory() func() (tfprotov6.ProviderServer, error) {
	return providerserver.NewProtocol6WithError(&probeProvider{probe: p})
}

// Credentials returns every configuration the probe received with a token, in order.
func (p *KubernetesProbe) Credentials() []ProbeCredentials {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProbeCredentials(nil), p.credentials...)
}

// ProxyGet sends GET <host><path> with the token as a bearer token, as the kubernetes provider does,
// and returns the status and body.
func ProxyGet(ctx context.Context, host, token, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(host, "/")+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

type probeProvider struct{ probe *KubernetesProbe }

type probeConfig struct {
	Host      types.String `tfsdk:"host"`
	Token     types.String `tfsdk:"token"`
	ExpiresAt types.String `tfsdk:"expires_at"`
}

func (p *probeProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "k8sprobe"
}

func (p *probeProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"host":       schema.StringAttribute{Optional: true},
		"token":      schema.StringAttribute{Optional: true, Sensitive: true},
		"expires_at": schema.StringAttribute{Optional: true},
	}}
}

func (p *probeProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg probeConfig
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	creds := ProbeCredentials{Host: cfg.Host.ValueString(), Token: cfg.Token.ValueString(), ExpiresAt: cfg.ExpiresAt.ValueString()}
	if creds.Token != "" {
		p.probe.mu.Lock()
		p.probe.credentials = append(p.probe.credentials, creds)
		p.probe.mu.Unlock()
	}
	resp.DataSourceData = creds
}

func (p *probeProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *probeProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &probeNamespaces{} }}
}

type probeNamespaces struct{ creds ProbeCredentials }

func (d *probeNamespaces) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "k8sprobe_namespaces"
}

func (d *probeNamespaces) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = dsschema.Schema{Attributes: map[string]dsschema.Attribute{
		"names": dsschema.ListAttribute{ElementType: types.StringType, Computed: true},
	}}
}

func (d *probeNamespaces) Configure(_ context.Context, req datasource.ConfigureRequest, _ *datasource.ConfigureResponse) {
	if creds, ok := req.ProviderData.(ProbeCredentials); ok {
		d.creds = creds
	}
}

func (d *probeNamespaces) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	status, body, err := ProxyGet(ctx, d.creds.Host, d.creds.Token, "/api/v1/namespaces")
	if err != nil {
		resp.Diagnostics.AddError("Listing namespaces failed", err.Error())
		return
	}
	if status != http.StatusOK {
		resp.Diagnostics.AddError("Listing namespaces failed", fmt.Sprintf("the cluster answered %d: %s", status, body))
		return
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		resp.Diagnostics.AddError("Listing namespaces failed", err.Error())
		return
	}
	names := make([]string, len(list.Items))
	for i, item := range list.Items {
		names[i] = item.Metadata.Name
	}
	value, diags := types.ListValueFrom(ctx, types.StringType, names)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("names"), value)...)
}
