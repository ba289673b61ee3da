package provider

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// NewServer returns the factory of the protocol 6 server of p (see New):
// the plugin framework's server, with each resource and data source
// request's context released once the request has been served (see
// releasingServer). main serves it and every test that runs Terraform runs
// it.
func NewServer(p provider.Provider) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		return releaseRequestContexts(providerserver.NewProtocol6(p)())
	}
}

// frameworkServer is every protocol 6 interface the framework's server
// implements, so that wrapping it hides none (terraform-plugin-go looks for
// the optional ones; they are deprecated only in favour of ProviderServer
// growing their methods).
type frameworkServer interface {
	tfprotov6.ProviderServerWithListResource //nolint:staticcheck // see above
	tfprotov6.ProviderServerWithActions      //nolint:staticcheck // see above
	tfprotov6.ProviderServerWithStateStores  //nolint:staticcheck // see above
}

// releasingServer works around a leak in terraform-plugin-framework (seen in
// v1.19.0): its server keeps the cancel function of every request's context
// in a slice that only StopProvider empties, so every request's context, and
// all that its values hold (loggers with their fields, gRPC stream state),
// stays reachable while the provider runs (upstream/terraform-plugin-framework-request-contexts.md;
// the figures are in docs/benchmarks.md).
//
// The framework is handed a context that stands for the request's context
// while the request is served, and lets go of it afterwards, so that what the
// framework keeps is a few hundred bytes. Cancellation is unchanged:
// terraform-plugin-go cancels the context of every request in flight on
// StopProvider itself, the framework's StopProvider still runs, and while a
// request is served its context behaves exactly as before.
//
// Only the unary RPCs that come once per resource or data source are wrapped;
// the others are few per process or return streams that outlive the call.
type releasingServer struct {
	frameworkServer
}

// releaseRequestContexts wraps s, the framework's server. It panics when s
// lacks one of the interfaces frameworkServer names: serving it unwrapped
// would bring the leak back, and wrapping it would hide what it does not
// implement; a test of the module's framework version fails first
// (TestServerCoversTheFrameworkServer).
func releaseRequestContexts(s tfprotov6.ProviderServer) tfprotov6.ProviderServer {
	full, ok := s.(frameworkServer)
	if !ok {
		panic(fmt.Sprintf("the plugin framework's server (%T) no longer implements every interface releasingServer "+
			"wraps: update frameworkServer in internal/provider/server.go", s))
	}
	return releasingServer{frameworkServer: full}
}

// serve calls the framework with a context it keeps only while the request is served.
func serve[Req, Resp any](ctx context.Context, req Req, next func(context.Context, Req) (Resp, error)) (Resp, error) {
	rc := newRequestContext(ctx)
	defer rc.release()
	return next(rc, req)
}

func (s releasingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return serve(ctx, req, s.frameworkServer.ValidateResourceConfig)
}

func (s releasingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return serve(ctx, req, s.frameworkServer.UpgradeResourceState)
}

func (s releasingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return serve(ctx, req, s.frameworkServer.ReadResource)
}

func (s releasingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return serve(ctx, req, s.frameworkServer.PlanResourceChange)
}

func (s releasingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return serve(ctx, req, s.frameworkServer.ApplyResourceChange)
}

func (s releasingServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return serve(ctx, req, s.frameworkServer.ImportResourceState)
}

func (s releasingServer) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return serve(ctx, req, s.frameworkServer.MoveResourceState)
}

func (s releasingServer) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return serve(ctx, req, s.frameworkServer.UpgradeResourceIdentity)
}

func (s releasingServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return serve(ctx, req, s.frameworkServer.ValidateDataResourceConfig)
}

func (s releasingServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return serve(ctx, req, s.frameworkServer.ReadDataSource)
}

// requestContext is a request's context until release, and an empty,
// cancelled context after: it then holds nothing but the request's Done
// channel.
type requestContext struct {
	done   <-chan struct{}
	parent atomic.Pointer[context.Context]
}

func newRequestContext(ctx context.Context) *requestContext {
	rc := &requestContext{done: ctx.Done()}
	rc.parent.Store(&ctx)
	return rc
}

// release drops the request's context; the request has been served.
func (rc *requestContext) release() { rc.parent.Store(nil) }

func (rc *requestContext) get() context.Context {
	if p := rc.parent.Load(); p != nil {
		return *p
	}
	return nil
}

func (rc *requestContext) Deadline() (time.Time, bool) {
	if ctx := rc.get(); ctx != nil {
		return ctx.Deadline()
	}
	return time.Time{}, false
}

func (rc *requestContext) Done() <-chan struct{} { return rc.done }

func (rc *requestContext) Err() error {
	if ctx := rc.get(); ctx != nil {
		return ctx.Err()
	}
	select {
	case <-rc.done:
		return context.Canceled
	default:
		return nil
	}
}

func (rc *requestContext) Value(key any) any {
	if ctx := rc.get(); ctx != nil {
		return ctx.Value(key)
	}
	return nil
}
