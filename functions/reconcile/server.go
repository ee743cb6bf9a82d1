package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/plane"
)

// server is reconcile on one port: the operator's calls under /v1/ (the
// admin token, ?plane=shadow for the shadow plane), and the broker's
// events (ticks, dead letters, alerts) everywhere else.
type server struct {
	planes planes
	mux    *http.ServeMux
}

var _ http.Handler = (*server)(nil)

func newServer(log *slog.Logger, fns plane.Each[*Function], admin auth.Admin) (*server, error) {
	s := &server{planes: newPlanes(fns), mux: http.NewServeMux()}
	events, err := fn.Handler(log, s.planes)
	if err != nil {
		return nil, err
	}
	apis := plane.Each[*reportsAPI]{newReportsAPI(fns[plane.Real]), newReportsAPI(fns[plane.Shadow])}
	s.mux.Handle("/v1/", plane.NewRequests(adminPlane(admin), apis))
	s.mux.Handle("/", events)
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// The hooks are the functions' (through planes), run once.
func (s *server) Start(ctx context.Context, env map[string]string) error {
	return s.planes.Start(ctx, env)
}
func (s *server) Stop(ctx context.Context) error          { return s.planes.Stop(ctx) }
func (s *server) Ready(ctx context.Context) (bool, error) { return s.planes.Ready(ctx) }
func (s *server) Alive(ctx context.Context) (bool, error) { return s.planes.Alive(ctx) }

// adminPlane lets only the operator through, on the plane ?plane= names
// (real when absent), as admin's calls do.
func adminPlane(admin auth.Admin) plane.Chooser {
	return func(r *http.Request) (*http.Request, plane.Plane, error) {
		if err := admin.Check(r); err != nil {
			return r, plane.Real, auth.HTTPError(err)
		}
		name, named := r.URL.Query()["plane"]
		if !named {
			return r, plane.Real, nil
		}
		p, err := plane.Parse(name[0])
		if err != nil || len(name) > 1 {
			return r, plane.Real, httpapi.Errorf(http.StatusBadRequest, "invalid_plane", "plane must be real or shadow")
		}
		return r, p, nil
	}
}
