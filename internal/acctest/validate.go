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

// Value builds a value of type t from plain Go values: map[string]any for objects (absent attributes
// are null), []any for lists, string, bool, int for numbers, nil for null.
func Value(t tftypes.Type, v any) tftypes.Value {
	if v == nil {
		return tftypes.NewValue(t, nil)
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
		return tftypes.NewValue(t, big.NewFloat(float64(v.(int))))
	}
	return tftypes.NewValue(t, v)
}
