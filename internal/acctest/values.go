package acctest

import (
	"context"
	"math/big"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// ValidateResourceConfig validates a resource configuration as `terraform validate` and every plan do,
// and returns the diagnostics, warnings included. Each attribute is given as plain Go values (see
// Value); attributes not given are null.
func (p *Protocol) ValidateResourceConfig(typeName string, config map[string]any) []*tfprotov6.Diagnostic {
	p.t.Helper()
	s := p.schema(typeName)
	typ := s.ValueType().(tftypes.Object)
	attrs := map[string]tftypes.Value{}
	for name, v := range config {
		at, ok := typ.AttributeTypes[name]
		if !ok {
			p.t.Fatalf("%s has no attribute %s", typeName, name)
		}
		attrs[name] = Value(at, v)
	}
	resp, err := p.server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{
		TypeName: typeName,
		Config:   dynamicValue(p.t, objectOf(s, attrs)),
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Diagnostics
}

// Unknown stands for a value not known until apply in Value.
var Unknown = struct{ unknown bool }{true}

// Value builds a value of type t from plain Go values: map[string]any for objects (absent attributes
// are null), []any for lists, string, bool, int or float64 (or *big.Float) for numbers, nil for null, Unknown for
// unknown.
func Value(t tftypes.Type, v any) tftypes.Value {
	if v == nil {
		return tftypes.NewValue(t, nil)
	}
	if v == Unknown {
		return tftypes.NewValue(t, tftypes.UnknownValue)
	}
	switch {
	case t.Is(tftypes.Object{}):
		ot := t.(tftypes.Object)
		m := v.(map[string]any)
		vals := map[string]tftypes.Value{}
		for name, at := range ot.AttributeTypes {
			vals[name] = Value(at, m[name])
		}
		return tftypes.NewValue(t, vals)
	case t.Is(tftypes.List{}):
		et := t.(tftypes.List).ElementType
		var elems []tftypes.Value
		for _, e := range v.([]any) {
			elems = append(elems, Value(et, e))
		}
		return tftypes.NewValue(t, elems)
	case t.Is(tftypes.Number):
		switch n := v.(type) {
		case int:
			return tftypes.NewValue(t, big.NewFloat(float64(n)))
		case float64:
			return tftypes.NewValue(t, big.NewFloat(n))
		}
	}
	return tftypes.NewValue(t, v)
}

// identityData builds an identity from plain Go values (see Value).
func (p *Protocol) identityData(typeName string, identity map[string]any) *tfprotov6.ResourceIdentityData {
	p.t.Helper()
	return &tfprotov6.ResourceIdentityData{IdentityData: dynamicValue(p.t, Value(p.identitySchema(typeName).ValueType(), identity))}
}

// identityValue decodes an identity; a missing one is a null value.
func (p *Protocol) identityValue(typeName string, identity *tfprotov6.ResourceIdentityData) tftypes.Value {
	p.t.Helper()
	typ := p.identitySchema(typeName).ValueType()
	if identity == nil || identity.IdentityData == nil {
		return tftypes.NewValue(typ, nil)
	}
	v, err := identity.IdentityData.Unmarshal(typ)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// ImportByIdentityValues is ImportByIdentity for identities with attributes other than numeric IDs,
// given as plain Go values; it returns the identity as a value.
func (p *Protocol) ImportByIdentityValues(typeName string, identity map[string]any) (tftypes.Value, []byte, tftypes.Value, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	state, private, imported, diags := p.importByIdentity(typeName, p.identityData(typeName, identity))
	return state, private, p.identityValue(typeName, imported), diags
}

// ReadIdentityValues is ReadIdentity for identities given as plain Go values (nil: none); it returns
// the new identity as a value.
func (p *Protocol) ReadIdentityValues(typeName string, state tftypes.Value, private []byte, identity map[string]any) (tftypes.Value, tftypes.Value, []*tfprotov6.Diagnostic) {
	p.t.Helper()
	req := &tfprotov6.ReadResourceRequest{TypeName: typeName, CurrentState: dynamicValue(p.t, state), Private: private}
	if identity != nil {
		req.CurrentIdentity = p.identityData(typeName, identity)
	}
	resp, err := p.server.ReadResource(context.Background(), req)
	if err != nil {
		p.t.Fatal(err)
	}
	newState := tftypes.NewValue(p.schema(typeName).ValueType(), nil)
	if resp.NewState != nil {
		newState = p.unmarshal(typeName, resp.NewState)
	}
	return newState, p.identityValue(typeName, resp.NewIdentity), resp.Diagnostics
}
