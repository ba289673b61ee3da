package acctest

import (
	"context"
	"math/big"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/mockgitlab"
)

// What Terraform 1.12 and later (resource identity) and 1.14 and later (list
// resources) ask of the provider, driven through its protocol server without
// a terraform binary, so that CI, whose Terraform is older, tests it all the
// same.

// NewMock starts a mock GitLab for a test that drives the provider through
// Protocol only, and so needs no terraform binary.
func NewMock(t *testing.T) *Env {
	t.Helper()
	mock, err := mockgitlab.New(mockgitlab.DefaultSeed())
	if err != nil {
		t.Fatalf("starting the mock GitLab: %v", err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return &Env{Mock: mock, BaseURL: srv.URL + "/api/v4"}
}

// Identity builds an identity of a resource type from numeric IDs (the
// attributes not given are null).
func (p *Protocol) Identity(typeName string, ids map[string]int64) *tfprotov6.ResourceIdentityData {
	p.t.Helper()
	numbers := make(map[string]any, len(ids))
	for name, id := range ids {
		numbers[name] = id
	}
	return p.IdentityOf(typeName, numbers)
}

// IdentityOf builds an identity of a resource type from numbers of any form
// tftypes takes (int64, float64, *big.Float), as a configuration may write
// them: 1.5, 1e30 (the attributes not given are null).
func (p *Protocol) IdentityOf(typeName string, ids map[string]any) *tfprotov6.ResourceIdentityData {
	p.t.Helper()
	s := p.identitySchema(typeName)
	typ := s.ValueType().(tftypes.Object)
	vals := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name, id := range ids {
		if _, ok := typ.AttributeTypes[name]; !ok {
			p.t.Fatalf("the identity of %s has no attribute %s", typeName, name)
		}
		vals[name] = tftypes.NewValue(tftypes.Number, id)
	}
	return &tfprotov6.ResourceIdentityData{IdentityData: dynamicValue(p.t, tftypes.NewValue(typ, vals))}
}

// IdentityIDs decodes an identity into its IDs; null attributes are left
// out, and a missing identity gives nil.
func (p *Protocol) IdentityIDs(typeName string, identity *tfprotov6.ResourceIdentityData) map[string]int64 {
	p.t.Helper()
	if identity == nil || identity.IdentityData == nil {
		return nil
	}
	v, err := identity.IdentityData.Unmarshal(p.identitySchema(typeName).ValueType())
	if err != nil {
		p.t.Fatal(err)
	}
	attrs := map[string]tftypes.Value{}
	if !v.IsNull() {
		if err := v.As(&attrs); err != nil {
			p.t.Fatal(err)
		}
	}
	ids := map[string]int64{}
	for name, a := range attrs {
		if a.IsNull() {
			continue
		}
		var n big.Float
		if err := a.As(&n); err != nil {
			p.t.Fatal(err)
		}
		ids[name], _ = n.Int64()
	}
	return ids
}

// ImportByIdentity imports a resource as `import { identity = {…} }` does and
// returns its state, private state, identity and diagnostics.
func (p *Protocol) ImportByIdentity(typeName string, ids map[string]int64) (tftypes.Value, []byte, map[string]int64, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	return p.importIdentity(typeName, p.Identity(typeName, ids))
}

// ImportByIdentityOf is ImportByIdentity with numbers of any form (see IdentityOf).
func (p *Protocol) ImportByIdentityOf(typeName string, ids map[string]any) (tftypes.Value, []byte, map[string]int64, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	return p.importIdentity(typeName, p.IdentityOf(typeName, ids))
}

func (p *Protocol) importIdentity(typeName string, identity *tfprotov6.ResourceIdentityData) (tftypes.Value, []byte, map[string]int64, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	state, private, imported, diags := p.importByIdentity(typeName, identity)
	return state, private, p.IdentityIDs(typeName, imported), diags
}

// importByIdentity imports typeName by identity through the protocol and
// returns the imported state (null when nothing was imported), its private
// data and its identity.
func (p *Protocol) importByIdentity(typeName string, identity *tfprotov6.ResourceIdentityData) (tftypes.Value, []byte, *tfprotov6.ResourceIdentityData, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	resp, err := p.server.ImportResourceState(context.Background(), &tfprotov6.ImportResourceStateRequest{
		TypeName: typeName,
		Identity: identity,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	if len(resp.ImportedResources) != 1 {
		return tftypes.NewValue(p.schema(typeName).ValueType(), nil), nil, nil, resp.Diagnostics
	}
	r := resp.ImportedResources[0]
	return p.unmarshal(typeName, r.State), r.Private, r.Identity, resp.Diagnostics
}

// ReadIdentity refreshes a resource given its identity, as Terraform 1.12
// and later do, and returns the new state and identity.
func (p *Protocol) ReadIdentity(typeName string, state tftypes.Value, private []byte, ids map[string]int64) (tftypes.Value, map[string]int64, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	req := &tfprotov6.ReadResourceRequest{
		TypeName:     typeName,
		CurrentState: dynamicValue(p.t, state),
		Private:      private,
	}
	if ids != nil {
		req.CurrentIdentity = p.Identity(typeName, ids)
	}
	resp, err := p.server.ReadResource(context.Background(), req)
	if err != nil {
		p.t.Fatal(err)
	}
	newState := tftypes.NewValue(p.schema(typeName).ValueType(), nil)
	if resp.NewState != nil {
		newState = p.unmarshal(typeName, resp.NewState)
	}
	return newState, p.IdentityIDs(typeName, resp.NewIdentity), resp.Diagnostics
}

// Move calls MoveResourceState with a source resource's raw JSON state and
// returns the target state, private state, identity and diagnostics.
func (p *Protocol) Move(sourceProvider, sourceType string, sourceVersion int64, rawJSON string, targetType string) (tftypes.Value, []byte, map[string]int64, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	resp, err := p.server.MoveResourceState(context.Background(), &tfprotov6.MoveResourceStateRequest{
		SourceProviderAddress: sourceProvider,
		SourceTypeName:        sourceType,
		SourceSchemaVersion:   sourceVersion,
		SourceState:           &tfprotov6.RawState{JSON: []byte(rawJSON)},
		TargetTypeName:        targetType,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	state := tftypes.NewValue(p.schema(targetType).ValueType(), nil)
	if resp.TargetState != nil {
		state = p.unmarshal(targetType, resp.TargetState)
	}
	return state, resp.TargetPrivate, p.IdentityIDs(targetType, resp.TargetIdentity), resp.Diagnostics
}

// ListResult is one result of a list resource, decoded.
type ListResult struct {
	DisplayName string
	Identity    map[string]int64
	// Resource is the listed object's state: null unless asked for.
	Resource    tftypes.Value
	Diagnostics []*tfprotov6.Diagnostic
}

// List runs a list resource, as `terraform query` does, with the given
// configuration (attributes not given are null), and collects its results.
func (p *Protocol) List(typeName string, config map[string]tftypes.Value, includeResource bool, limit int64) []ListResult {
	p.t.Helper()
	s, ok := p.listSchemas[typeName]
	if !ok {
		p.t.Fatalf("the provider has no list resource %s", typeName)
	}
	stream, err := p.server.(tfprotov6.ListResourceServer).ListResource(context.Background(), &tfprotov6.ListResourceRequest{
		TypeName:        typeName,
		Config:          dynamicValue(p.t, objectOf(s, config)),
		IncludeResource: includeResource,
		Limit:           limit,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	var results []ListResult
	for r := range stream.Results {
		res := ListResult{
			DisplayName: r.DisplayName,
			Resource:    tftypes.NewValue(p.schema(typeName).ValueType(), nil),
			Diagnostics: r.Diagnostics,
		}
		if r.Identity != nil {
			res.Identity = p.IdentityIDs(typeName, r.Identity)
		}
		if r.Resource != nil {
			res.Resource = p.unmarshal(typeName, r.Resource)
		}
		results = append(results, res)
	}
	return results
}

func (p *Protocol) identitySchema(typeName string) *tfprotov6.ResourceIdentitySchema {
	p.t.Helper()
	s, ok := p.identitySchemas[typeName]
	if !ok {
		p.t.Fatalf("the provider has no identity schema for %s", typeName)
	}
	return s
}
