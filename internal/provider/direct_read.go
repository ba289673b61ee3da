package provider

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"
)

// directRead answers ReadDataSource for gitlabagent_cluster_agents without
// the plugin framework's ReadDataSource, which (v1.19.0) copies the whole
// state a data source returns and converts the copy to framework values
// (to compare it with the configuration for semantic equality, which no
// attribute of this data source has) before encoding it for Terraform. For
// a project with 10,000 agents those copies were most of the provider's
// memory (about 35 MiB live, 95 MiB resident at the peak). Here each agent's
// value is encoded, by terraform-plugin-go as the framework would, as soon as
// its page arrives, and only the encoded bytes are kept.
//
// It answers only when the provider has a client and the configuration is
// wholly known; otherwise (the provider not configured yet, or configured
// from values known only at apply) the framework answers, through Read, with
// the same errors as every other data source. The answer is the framework's
// byte for byte: TestDirectReadAnswersAsTheFramework compares them.
//
// ok is false when the framework is to answer.
func (s releasingServer) directRead(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, bool) {
	if s.provider == nil || req.TypeName != "gitlabagent_cluster_agents" || req.Config == nil {
		return nil, false
	}
	data := s.provider.configured.Load()
	if data == nil || data.client == nil {
		return nil, false
	}
	var schemaResp datasource.SchemaResponse
	newClusterAgentsDataSource().Schema(ctx, datasource.SchemaRequest{}, &schemaResp)
	stateType := schemaResp.Schema.Type().TerraformType(ctx)
	shape, ok := agentListShapeOf(stateType)
	if !ok {
		return nil, false
	}
	config, err := req.Config.Unmarshal(stateType)
	if err != nil || !config.IsFullyKnown() {
		return nil, false
	}
	var attrs map[string]tftypes.Value
	var project string
	if err := config.As(&attrs); err != nil || attrs["project"].As(&project) != nil || project == "" {
		return nil, false
	}

	var diags diag.Diagnostics
	var elements bytes.Buffer
	count := 0
	projectID, ok := readAgentList(ctx, data.client, project, shape, func(el tftypes.Value) error {
		encoded, err := tfprotov6.NewDynamicValue(shape.element, el)
		if err != nil {
			return err
		}
		elements.Write(encoded.MsgPack)
		count++
		return nil
	}, &diags)
	resp := &tfprotov6.ReadDataSourceResponse{}
	if !ok {
		// As the framework: the state starts as the configuration and stays so.
		if encoded, err := tfprotov6.NewDynamicValue(stateType, config); err == nil {
			resp.State = &encoded
		}
	} else {
		state, err := encodeObjectWithList(shape.state, shape.stateAttributes(project, projectID, tftypes.Value{}),
			"cluster_agents", count, elements.Bytes())
		if err != nil {
			diags.AddError("Building the list of agents failed",
				fmt.Sprintf("This is a bug in the provider; please report it: %v", err))
		} else {
			resp.State = &tfprotov6.DynamicValue{MsgPack: state}
		}
	}
	resp.Diagnostics = protocolDiagnostics(diags)
	return resp, true
}

// encodeObjectWithList encodes an object value of typ as terraform-plugin-go
// does (a map of the attributes in name order), where the attribute
// listName, a list, is given as its count elements already encoded, one
// after another, and the other attributes as values in attrs.
func encodeObjectWithList(typ tftypes.Object, attrs map[string]tftypes.Value, listName string, count int, elements []byte) ([]byte, error) {
	names := make([]string, 0, len(typ.AttributeTypes))
	for name := range typ.AttributeTypes {
		names = append(names, name)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	buf.Grow(len(elements) + 256)
	enc := msgpack.NewEncoder(&buf)
	if err := enc.EncodeMapLen(len(names)); err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := enc.EncodeString(name); err != nil {
			return nil, err
		}
		if name == listName {
			if err := enc.EncodeArrayLen(count); err != nil {
				return nil, err
			}
			buf.Write(elements)
			continue
		}
		value, ok := attrs[name]
		if !ok {
			return nil, fmt.Errorf("no value for attribute %q", name)
		}
		encoded, err := tfprotov6.NewDynamicValue(typ.AttributeTypes[name], value)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		buf.Write(encoded.MsgPack)
	}
	return buf.Bytes(), nil
}

// protocolDiagnostics is the framework's conversion of diagnostics for
// Terraform, for those directRead makes.
func protocolDiagnostics(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{
			Severity: tfprotov6.DiagnosticSeverityError,
			Summary:  d.Summary(),
			Detail:   d.Detail(),
		}
		if d.Severity() == diag.SeverityWarning {
			pd.Severity = tfprotov6.DiagnosticSeverityWarning
		}
		if dp, ok := d.(diag.DiagnosticWithPath); ok {
			pd.Attribute = attributePath(dp.Path())
		}
		out = append(out, pd)
	}
	return out
}

// attributePath is p as Terraform's attribute path.
func attributePath(p path.Path) *tftypes.AttributePath {
	if len(p.Steps()) == 0 {
		return nil
	}
	ap := tftypes.NewAttributePath()
	for _, step := range p.Steps() {
		switch s := step.(type) {
		case path.PathStepAttributeName:
			ap = ap.WithAttributeName(string(s))
		case path.PathStepElementKeyInt:
			ap = ap.WithElementKeyInt(int(s))
		case path.PathStepElementKeyString:
			ap = ap.WithElementKeyString(string(s))
		default:
			return ap
		}
	}
	return ap
}
