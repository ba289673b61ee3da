package provider

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

type requestValueKey struct{}

// requestPayload stands for what a request's context holds (loggers, gRPC state).
type requestPayload struct{ _ [4096]byte }

// servedContextIsKept serves n requests, each with a payload in its context,
// as terraform-plugin-go does (a cancellable context, cancelled once the
// request has been served), and reports how many payloads are still reachable
// after a garbage collection.
func servedContextIsKept(t *testing.T, server tfprotov6.ProviderServer, n int) int {
	t.Helper()
	refs := make([]weak.Pointer[requestPayload], 0, n)
	for range n {
		payload := &requestPayload{}
		refs = append(refs, weak.Make(payload))
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), requestValueKey{}, payload))
		if _, err := server.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: "gitlabagent_cluster_agents"}); err != nil {
			t.Fatal(err)
		}
		if _, err := server.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "gitlabagent_cluster_agent"}); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	runtime.GC()
	runtime.GC()
	kept := 0
	for _, r := range refs {
		if r.Value() != nil {
			kept++
		}
	}
	runtime.KeepAlive(server) // a server in use: what it keeps counts
	return kept
}

func TestServerLetsGoOfServedRequestContexts(t *testing.T) {
	t.Parallel()
	const n = 50
	if kept := servedContextIsKept(t, NewServer(New("test")())(), n); kept != 0 {
		t.Errorf("%d of %d served requests' contexts are still reachable; want none", kept, n)
	}
	// The framework's own server keeps them (terraform-plugin-framework
	// v1.19.0). Once it no longer does, releasingServer can go.
	if kept := servedContextIsKept(t, providerserver.NewProtocol6(New("test")())(), n); kept < n {
		t.Errorf("the framework's server kept only %d of %d request contexts: it no longer leaks them, "+
			"so releasingServer (server.go) is not needed any more", kept, n)
	}
}

// The server the provider ships hides nothing of the framework's: every
// exported method of the framework's server (protocol 6 RPCs, optional
// ones included) and every method of tfprotov6.ProviderServer is a method of
// it. After a framework upgrade that adds an RPC, this fails until
// frameworkServer names it.
func TestServerCoversTheFrameworkServer(t *testing.T) {
	t.Parallel()
	framework := reflect.TypeOf(providerserver.NewProtocol6(New("test")())())
	ours := reflect.TypeOf(NewServer(New("test")())())
	if ours != reflect.TypeOf(releasingServer{}) {
		t.Fatalf("NewServer serves %v, want releasingServer", ours)
	}
	protocol := reflect.TypeFor[tfprotov6.ProviderServer]()
	for _, typ := range []reflect.Type{framework, protocol} {
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if _, ok := ours.MethodByName(m.Name); !ok {
				t.Errorf("%v has %s, the provider's server does not: add its interface to frameworkServer", typ, m.Name)
			}
		}
	}
	if framework.NumMethod() == 0 || ours.NumMethod() < framework.NumMethod() {
		t.Errorf("the framework's server has %d methods, the provider's %d", framework.NumMethod(), ours.NumMethod())
	}
}

// A server lacking one of the interfaces frameworkServer names is not
// served unwrapped (the leak back) nor wrapped (hiding what it lacks).
func TestServerRefusesAFrameworkServerItCannotCover(t *testing.T) {
	t.Parallel()
	type protocolOnly struct{ tfprotov6.ProviderServer }
	defer func() {
		if recover() == nil {
			t.Error("releaseRequestContexts wrapped a server without the optional protocol interfaces")
		}
	}()
	releaseRequestContexts(protocolOnly{providerserver.NewProtocol6(New("test")())()})
}

func TestRequestContextIsTheRequestsUntilReleased(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), requestValueKey{}, "v"), deadline)
	defer cancel()
	rc := newRequestContext(parent)

	if got := rc.Value(requestValueKey{}); got != "v" {
		t.Errorf("Value = %v, want the request's value", got)
	}
	if d, ok := rc.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline = %v, %v; want %v, true", d, ok, deadline)
	}
	if rc.Err() != nil {
		t.Errorf("Err = %v before cancellation", rc.Err())
	}
	// What the framework does with it: a context of its own, derived from it,
	// which cancelling the request (StopProvider, or the request ending) must cancel.
	derived, cancelDerived := context.WithCancel(rc)
	defer cancelDerived()
	cancel()
	select {
	case <-derived.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the request did not cancel a context derived from it")
	}
	if !errors.Is(rc.Err(), context.Canceled) || !errors.Is(derived.Err(), context.Canceled) {
		t.Errorf("Err = %v, derived %v; want context.Canceled", rc.Err(), derived.Err())
	}

	rc.release()
	if got := rc.Value(requestValueKey{}); got != nil {
		t.Errorf("Value after release = %v, want nil", got)
	}
	if _, ok := rc.Deadline(); ok {
		t.Error("a released context still has the request's deadline")
	}
	if !errors.Is(rc.Err(), context.Canceled) {
		t.Errorf("Err after release of a cancelled request = %v, want context.Canceled", rc.Err())
	}
}

func TestRequestContextReleasedBeforeCancellationIsNotDone(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := newRequestContext(parent)
	rc.release()
	if err := rc.Err(); err != nil {
		t.Errorf("Err = %v while the request's Done channel is open, want nil", err)
	}
	cancel()
	<-rc.Done()
	if !errors.Is(rc.Err(), context.Canceled) {
		t.Errorf("Err = %v once Done is closed, want context.Canceled", rc.Err())
	}
}
