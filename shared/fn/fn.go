// Package fn hosts a Surge function the way Knative Functions host one: the
// function is a value with a Handle method (CloudEvents) or ServeHTTP (HTTP),
// plus optional Start, Stop, Ready and Alive hooks. Run serves it on
// LISTEN_ADDRESS, then PORT, then 8080, with /health/readiness and
// /health/liveness, and drains in-flight requests on SIGTERM.
package fn

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
)

// EventHandler is a CloudEvents function. A reply event continues the chain
// (200 + event); no reply means done (202). Errors are mapped to the
// Knative data-plane status codes by Status.
type EventHandler interface {
	Handle(ctx context.Context, e event.Event) (*event.Event, error)
}

// Starter is called once before the function takes traffic, with the
// process environment as a map (the func-go contract).
type Starter interface {
	Start(ctx context.Context, env map[string]string) error
}

// Stopper is called once after the server has drained.
type Stopper interface {
	Stop(ctx context.Context) error
}

// ReadinessReporter answers whether the function can take traffic now
// (clients to Redis, PostgreSQL and S3 are open).
type ReadinessReporter interface {
	Ready(ctx context.Context) (bool, error)
}

// LivenessReporter answers whether the process should be restarted.
type LivenessReporter interface {
	Alive(ctx context.Context) (bool, error)
}

// Function is what Run serves: an EventHandler or an http.Handler, with any
// of the hooks above.
type Function any

// handlerFor serves an EventHandler through the CloudEvents host and an
// http.Handler as it is, each observed by obs.
func handlerFor(log *slog.Logger, f Function, obs *observer) (http.Handler, error) {
	switch f := f.(type) {
	case EventHandler:
		return &eventHost{fn: f, log: log, obs: obs}, nil
	case http.Handler:
		return obs.httpFunction(f), nil
	default:
		return nil, fmt.Errorf("function %T has neither Handle nor ServeHTTP", f)
	}
}
