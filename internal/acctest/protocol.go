package acctest

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// Protocol drives the provider in process through the plugin protocol, as
// Terraform would, for what the CLI does not let a test see: warning
// diagnostics (a token's secret not imported, a token found revoked, a
// token due for rotation).
type Protocol struct {
	t       *testing.T
	server  tfprotov6.ProviderServer
	schemas map[string]*tfprotov6.Schema
	// What Terraform 1.12 and 1.14 learn about (protocol_newer_terraform.go).
	identitySchemas map[string]*tfprotov6.ResourceIdentitySchema
	listSchemas     map[string]*tfprotov6.Schema
	dataSchemas     map[string]*tfprotov6.Schema
}

// DataSourceRequest is the request to read a data source with the given
// configuration (null where not given).
func (p *Protocol) DataSourceRequest(typeName string, config map[string]tftypes.Value) *tfprotov6.ReadDataSourceRequest {
	p.t.Helper()
	s, ok := p.dataSchemas[typeName]
	if !ok {
		p.t.Fatalf("no data source %s", typeName)
	}
	return &tfprotov6.ReadDataSourceRequest{TypeName: typeName, Config: dynamicValue(p.t, objectOf(s, config))}
}

// ReadDataSource serves req.
func (p *Protocol) ReadDataSource(req *tfprotov6.ReadDataSourceRequest) *tfprotov6.ReadDataSourceResponse {
	p.t.Helper()
	resp, err := p.server.ReadDataSource(context.Background(), req)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp
}

// DataSourceValue decodes a data source's state.
func (p *Protocol) DataSourceValue(typeName string, dv *tfprotov6.DynamicValue) tftypes.Value {
	p.t.Helper()
	v, err := dv.Unmarshal(p.dataSchemas[typeName].ValueType())
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// Protocol serves the provider configured for this mock with the given API token.
func (e *Env) Protocol(t *testing.T, apiToken string) *Protocol {
	t.Helper()
	return e.ProtocolOn(t, provider.NewServer(provider.New("test")())(), apiToken)
}

// ProtocolOn is Protocol with the server given.
func (e *Env) ProtocolOn(t *testing.T, server tfprotov6.ProviderServer, apiToken string) *Protocol {
	t.Helper()
	ctx := context.Background()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnErrors(t, "GetProviderSchema", schemas.Diagnostics)
	p := &Protocol{t: t, server: server, schemas: schemas.ResourceSchemas, listSchemas: schemas.ListResourceSchemas,
		dataSchemas: schemas.DataSourceSchemas}
	identities, err := server.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnErrors(t, "GetResourceIdentitySchemas", identities.Diagnostics)
	p.identitySchemas = identities.IdentitySchemas
	cfg := dynamicValue(t, objectOf(schemas.Provider, map[string]tftypes.Value{
		"base_url": tftypes.NewValue(tftypes.String, e.BaseURL),
		"token":    tftypes.NewValue(tftypes.String, apiToken),
		"retries":  tftypes.NewValue(tftypes.Number, big.NewFloat(1)),
	}))
	resp, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.11.0", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	failOnErrors(t, "ConfigureProvider", resp.Diagnostics)
	return p
}

// Import imports a resource by ID and returns its state, private state and diagnostics.
func (p *Protocol) Import(typeName, id string) (tftypes.Value, []byte, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	resp, err := p.server.ImportResourceState(context.Background(), &tfprotov6.ImportResourceStateRequest{TypeName: typeName, ID: id})
	if err != nil {
		p.t.Fatal(err)
	}
	if len(resp.ImportedResources) != 1 {
		return tftypes.Value{}, nil, resp.Diagnostics
	}
	r := resp.ImportedResources[0]
	return p.unmarshal(typeName, r.State), r.Private, resp.Diagnostics
}

// Read refreshes a resource's state; a null new state means the resource was removed.
func (p *Protocol) Read(typeName string, state tftypes.Value, private []byte) (tftypes.Value, []byte, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	resp, err := p.server.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{
		TypeName:     typeName,
		CurrentState: dynamicValue(p.t, state),
		Private:      private,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	if resp.NewState == nil {
		return tftypes.NewValue(p.schema(typeName).ValueType(), nil), resp.Private, resp.Diagnostics
	}
	return p.unmarshal(typeName, resp.NewState), resp.Private, resp.Diagnostics
}

// Plan plans a change from prior state to the given configuration (attributes
// not given are null), proposing the prior value for every unconfigured
// computed attribute as Terraform does.
func (p *Protocol) Plan(typeName string, prior tftypes.Value, private []byte, config map[string]tftypes.Value) *tfprotov6.PlanResourceChangeResponse {
	p.t.Helper()
	s := p.schema(typeName)
	cfg := objectOf(s, config)
	priorAttrs := map[string]tftypes.Value{}
	if !prior.IsNull() {
		if err := prior.As(&priorAttrs); err != nil {
			p.t.Fatal(err)
		}
	}
	proposed := map[string]tftypes.Value{}
	for _, a := range s.Block.Attributes {
		if v, ok := config[a.Name]; ok && !v.IsNull() {
			proposed[a.Name] = v
		} else if a.Computed {
			if v, ok := priorAttrs[a.Name]; ok {
				proposed[a.Name] = v
			}
		}
	}
	resp, err := p.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName:         typeName,
		PriorState:       dynamicValue(p.t, prior),
		ProposedNewState: dynamicValue(p.t, objectOf(s, proposed)),
		Config:           dynamicValue(p.t, cfg),
		PriorPrivate:     private,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp
}

// Create plans and applies the creation of a resource from the given
// configuration (attributes not given are null), as `terraform apply` does,
// and returns its new state and the diagnostics of both.
func (p *Protocol) Create(typeName string, config map[string]tftypes.Value) (tftypes.Value, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	s := p.schema(typeName)
	null := tftypes.NewValue(s.ValueType(), nil)
	plan := p.Plan(typeName, null, nil, config)
	failOnErrors(p.t, "PlanResourceChange", plan.Diagnostics)
	resp, err := p.server.ApplyResourceChange(context.Background(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName:       typeName,
		PriorState:     dynamicValue(p.t, null),
		PlannedState:   plan.PlannedState,
		Config:         dynamicValue(p.t, objectOf(s, config)),
		PlannedPrivate: plan.PlannedPrivate,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	diags := append(plan.Diagnostics, resp.Diagnostics...)
	if resp.NewState == nil {
		return null, diags
	}
	return p.unmarshal(typeName, resp.NewState), diags
}

// Attr returns one attribute of an object value (a null value when absent).
func Attr(v tftypes.Value, name string) tftypes.Value {
	attrs := map[string]tftypes.Value{}
	if v.IsNull() || v.As(&attrs) != nil {
		return tftypes.NewValue(tftypes.String, nil)
	}
	if a, ok := attrs[name]; ok {
		return a
	}
	return tftypes.NewValue(tftypes.String, nil)
}

// Warnings renders the warning diagnostics as "summary: detail" lines.
func Warnings(diags []*tfprotov6.Diagnostic) string {
	return renderDiagnostics(diags, tfprotov6.DiagnosticSeverityWarning)
}

// Errors renders the error diagnostics as "summary: detail" lines.
func Errors(diags []*tfprotov6.Diagnostic) string {
	return renderDiagnostics(diags, tfprotov6.DiagnosticSeverityError)
}

func renderDiagnostics(diags []*tfprotov6.Diagnostic, severity tfprotov6.DiagnosticSeverity) string {
	var lines []string
	for _, d := range diags {
		if d.Severity == severity {
			lines = append(lines, d.Summary+": "+d.Detail)
		}
	}
	return strings.Join(lines, "\n")
}

func (p *Protocol) schema(typeName string) *tfprotov6.Schema {
	s, ok := p.schemas[typeName]
	if !ok {
		p.t.Fatalf("the provider has no resource type %s", typeName)
	}
	return s
}

func (p *Protocol) unmarshal(typeName string, dv *tfprotov6.DynamicValue) tftypes.Value {
	p.t.Helper()
	v, err := dv.Unmarshal(p.schema(typeName).ValueType())
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// objectOf builds a value of the schema's type from the given attributes, null elsewhere.
func objectOf(s *tfprotov6.Schema, attrs map[string]tftypes.Value) tftypes.Value {
	typ := s.ValueType().(tftypes.Object)
	vals := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, at := range typ.AttributeTypes {
		if v, ok := attrs[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, vals)
}

func dynamicValue(t *testing.T, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(v.Type(), v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func failOnErrors(t *testing.T, call string, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	if errs := Errors(diags); errs != "" {
		t.Fatalf("%s failed: %s", call, errs)
	}
}
