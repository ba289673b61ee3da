package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// unreadablePrivate is a private state whose every read fails.
type unreadablePrivate struct{}

func (unreadablePrivate) GetKey(context.Context, string) ([]byte, diag.Diagnostics) {
	var d diag.Diagnostics
	d.AddError("Error Decoding Private State", "the private state could not be read")
	return nil, d
}

// What reading the token's private state reports reaches Terraform, also
// when nothing was read.
func TestPrivateKeyKeepsWhatReadingReports(t *testing.T) {
	t.Parallel()
	var diags diag.Diagnostics
	if got := privateKey(context.Background(), unreadablePrivate{}, importedKey, &diags); got != nil {
		t.Errorf("value %q from a failed read", got)
	}
	if !diags.HasError() || diags[0].Summary() != "Error Decoding Private State" {
		t.Errorf("diagnostics %v, want the read's error", diags)
	}
}
