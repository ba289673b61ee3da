// Command providerschema writes the provider's schemas in the format of
// `terraform providers schema -json`, read from the provider itself through
// its protocol server, without Terraform.
//
// `make docs` hands its output to tfplugindocs (--providers-schema), so that
// docs/ comes out the same whichever Terraform is installed: Terraform
// before 1.12 leaves resource identity out of its output, and before 1.14
// list resources, and the documentation would lose them.
//
// Usage: go run ./internal/cmd/providerschema -o schema.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"

	"github.com/gitlabagent/terraform-provider-gitlabagent/internal/provider"
)

// providerName is the key of the provider's schemas in the output: the name
// tfplugindocs looks the schemas up by.
const providerName = "gitlabagent"

func main() {
	out := flag.String("o", "", "write the JSON to this file instead of standard output")
	flag.Parse()
	b, err := schemaJSON(context.Background(), providerserver.NewProtocol6(provider.New("docs")())())
	if err == nil && *out != "" {
		err = os.WriteFile(*out, b, 0o600)
	} else if err == nil {
		_, err = os.Stdout.Write(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "providerschema:", err)
		os.Exit(1)
	}
}

// schemaJSON asks the server for its schemas and renders them as Terraform
// does.
func schemaJSON(ctx context.Context, server tfprotov6.ProviderServer) ([]byte, error) {
	ps, err := providerSchema(ctx, server)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(&tfjson.ProviderSchemas{
		FormatVersion: "1.0",
		Schemas:       map[string]*tfjson.ProviderSchema{providerName: ps},
	}, "", "  ")
}

func providerSchema(ctx context.Context, server tfprotov6.ProviderServer) (*tfjson.ProviderSchema, error) {
	resp, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, err
	}
	if err := diagnosticsError("GetProviderSchema", resp.Diagnostics); err != nil {
		return nil, err
	}
	identities, err := server.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err != nil {
		return nil, err
	}
	if err := diagnosticsError("GetResourceIdentitySchemas", identities.Diagnostics); err != nil {
		return nil, err
	}
	if len(resp.Functions)+len(resp.ActionSchemas) > 0 {
		return nil, fmt.Errorf("the provider has functions or actions, which this command does not render " +
			"yet: extend it")
	}
	ps := &tfjson.ProviderSchema{}
	if ps.ConfigSchema, err = schema(resp.Provider); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	for _, group := range []struct {
		from map[string]*tfprotov6.Schema
		to   *map[string]*tfjson.Schema
	}{
		{resp.ResourceSchemas, &ps.ResourceSchemas},
		{resp.DataSourceSchemas, &ps.DataSourceSchemas},
		{resp.ListResourceSchemas, &ps.ListResourceSchemas},
		{resp.EphemeralResourceSchemas, &ps.EphemeralResourceSchemas},
	} {
		if len(group.from) == 0 {
			continue
		}
		*group.to = make(map[string]*tfjson.Schema, len(group.from))
		for name, s := range group.from {
			if (*group.to)[name], err = schema(s); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if len(identities.IdentitySchemas) > 0 {
		ps.ResourceIdentitySchemas = make(map[string]*tfjson.IdentitySchema, len(identities.IdentitySchemas))
		for name, s := range identities.IdentitySchemas {
			if ps.ResourceIdentitySchemas[name], err = identitySchema(s); err != nil {
				return nil, fmt.Errorf("identity of %s: %w", name, err)
			}
		}
	}
	return ps, nil
}

func diagnosticsError(rpc string, diags []*tfprotov6.Diagnostic) error {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return fmt.Errorf("%s: %s: %s", rpc, d.Summary, d.Detail)
		}
	}
	return nil
}

func schema(s *tfprotov6.Schema) (*tfjson.Schema, error) {
	if s == nil {
		return nil, nil
	}
	block, err := schemaBlock(s.Block)
	if err != nil {
		return nil, err
	}
	return &tfjson.Schema{Version: count(s.Version), Block: block}, nil
}

func schemaBlock(b *tfprotov6.SchemaBlock) (*tfjson.SchemaBlock, error) {
	out := &tfjson.SchemaBlock{
		Description:     b.Description,
		DescriptionKind: descriptionKind(b.DescriptionKind),
		Deprecated:      b.Deprecated,
	}
	if len(b.Attributes) > 0 {
		attrs, err := attributes(b.Attributes)
		if err != nil {
			return nil, err
		}
		out.Attributes = attrs
	}
	if len(b.BlockTypes) > 0 {
		out.NestedBlocks = make(map[string]*tfjson.SchemaBlockType, len(b.BlockTypes))
		for _, bt := range b.BlockTypes {
			nested, err := schemaBlock(bt.Block)
			if err != nil {
				return nil, fmt.Errorf("block %s: %w", bt.TypeName, err)
			}
			out.NestedBlocks[bt.TypeName] = &tfjson.SchemaBlockType{
				NestingMode: blockNesting[bt.Nesting],
				Block:       nested,
				MinItems:    count(bt.MinItems),
				MaxItems:    count(bt.MaxItems),
			}
		}
	}
	return out, nil
}

func attributes(in []*tfprotov6.SchemaAttribute) (map[string]*tfjson.SchemaAttribute, error) {
	out := make(map[string]*tfjson.SchemaAttribute, len(in))
	for _, a := range in {
		attr := &tfjson.SchemaAttribute{
			Description:     a.Description,
			DescriptionKind: descriptionKind(a.DescriptionKind),
			Deprecated:      a.Deprecated,
			Required:        a.Required,
			Optional:        a.Optional,
			Computed:        a.Computed,
			Sensitive:       a.Sensitive,
			WriteOnly:       a.WriteOnly,
		}
		if a.NestedType != nil {
			nested, err := attributes(a.NestedType.Attributes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a.Name, err)
			}
			attr.AttributeNestedType = &tfjson.SchemaNestedAttributeType{
				Attributes:  nested,
				NestingMode: objectNesting[a.NestedType.Nesting],
			}
		} else {
			t, err := ctyType(a.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a.Name, err)
			}
			attr.AttributeType = t
		}
		out[a.Name] = attr
	}
	return out, nil
}

func identitySchema(s *tfprotov6.ResourceIdentitySchema) (*tfjson.IdentitySchema, error) {
	out := &tfjson.IdentitySchema{
		Version:    count(s.Version),
		Attributes: make(map[string]*tfjson.IdentityAttribute, len(s.IdentityAttributes)),
	}
	for _, a := range s.IdentityAttributes {
		t, err := ctyType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		out.Attributes[a.Name] = &tfjson.IdentityAttribute{
			IdentityType:      t,
			Description:       a.Description,
			RequiredForImport: a.RequiredForImport,
			OptionalForImport: a.OptionalForImport,
		}
	}
	return out, nil
}

// ctyType is the cty type of a tftypes type: the same type system, the type
// Terraform's JSON renders.
func ctyType(t tftypes.Type) (cty.Type, error) {
	switch {
	case t == nil:
		return cty.NilType, fmt.Errorf("attribute has neither a type nor a nested type")
	case t.Is(tftypes.String):
		return cty.String, nil
	case t.Is(tftypes.Number):
		return cty.Number, nil
	case t.Is(tftypes.Bool):
		return cty.Bool, nil
	case t.Is(tftypes.DynamicPseudoType):
		return cty.DynamicPseudoType, nil
	}
	switch tt := t.(type) {
	case tftypes.List:
		e, err := ctyType(tt.ElementType)
		return cty.List(e), err
	case tftypes.Set:
		e, err := ctyType(tt.ElementType)
		return cty.Set(e), err
	case tftypes.Map:
		e, err := ctyType(tt.ElementType)
		return cty.Map(e), err
	case tftypes.Tuple:
		elems := make([]cty.Type, len(tt.ElementTypes))
		for i, et := range tt.ElementTypes {
			var err error
			if elems[i], err = ctyType(et); err != nil {
				return cty.NilType, err
			}
		}
		return cty.Tuple(elems), nil
	case tftypes.Object:
		attrs := make(map[string]cty.Type, len(tt.AttributeTypes))
		var optional []string
		for name, at := range tt.AttributeTypes {
			var err error
			if attrs[name], err = ctyType(at); err != nil {
				return cty.NilType, err
			}
			if _, ok := tt.OptionalAttributes[name]; ok {
				optional = append(optional, name)
			}
		}
		if len(optional) > 0 {
			return cty.ObjectWithOptionalAttrs(attrs, optional), nil
		}
		return cty.Object(attrs), nil
	}
	return cty.NilType, fmt.Errorf("type %s has no cty equivalent", t)
}

// count is a schema version or an item count, which the protocol carries as
// int64 and Terraform's JSON as uint64; none is negative.
func count(n int64) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// descriptionKind is Terraform's rendering: "plain" unless Markdown.
func descriptionKind(k tfprotov6.StringKind) tfjson.SchemaDescriptionKind {
	if k == tfprotov6.StringKindMarkdown {
		return tfjson.SchemaDescriptionKindMarkdown
	}
	return tfjson.SchemaDescriptionKindPlain
}

var blockNesting = map[tfprotov6.SchemaNestedBlockNestingMode]tfjson.SchemaNestingMode{
	tfprotov6.SchemaNestedBlockNestingModeSingle: tfjson.SchemaNestingModeSingle,
	tfprotov6.SchemaNestedBlockNestingModeList:   tfjson.SchemaNestingModeList,
	tfprotov6.SchemaNestedBlockNestingModeSet:    tfjson.SchemaNestingModeSet,
	tfprotov6.SchemaNestedBlockNestingModeMap:    tfjson.SchemaNestingModeMap,
	tfprotov6.SchemaNestedBlockNestingModeGroup:  tfjson.SchemaNestingModeGroup,
}

var objectNesting = map[tfprotov6.SchemaObjectNestingMode]tfjson.SchemaNestingMode{
	tfprotov6.SchemaObjectNestingModeSingle: tfjson.SchemaNestingModeSingle,
	tfprotov6.SchemaObjectNestingModeList:   tfjson.SchemaNestingModeList,
	tfprotov6.SchemaObjectNestingModeSet:    tfjson.SchemaNestingModeSet,
	tfprotov6.SchemaObjectNestingModeMap:    tfjson.SchemaNestingModeMap,
}
