package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// DirectRead is the answer server (made by NewServer) gives req without the
// framework, and whether it gives one (see directRead).
func DirectRead(server tfprotov6.ProviderServer, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, bool) {
	rs, ok := server.(releasingServer)
	if !ok {
		return nil, false
	}
	return rs.directRead(context.Background(), req)
}
