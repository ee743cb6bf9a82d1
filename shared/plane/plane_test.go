package plane_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
)

func newEvent(ext any) event.Event {
	e := event.New()
	e.SetID("c.1")
	e.SetType(events.TypeClaimRequested)
	e.SetSource(events.SourceCaptcha)
	if ext != nil {
		e.SetExtension(plane.Extension, ext)
	}
	return e
}

func TestOf(t *testing.T) {
	tests := []struct {
		name    string
		ext     any
		want    plane.Plane
		invalid bool
	}{
		{"no extension", nil, plane.Real, false},
		{"true, as headers carry it", "true", plane.Shadow, false},
		{"true, as structured JSON carries it", true, plane.Shadow, false},
		{"false", "false", plane.Real, true},
		{"upper case", "TRUE", plane.Real, true},
		{"empty", "", plane.Real, true},
		{"a number", 1, plane.Real, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plane.Of(newEvent(tt.ext))
			if got != tt.want || (err != nil) != tt.invalid || (err != nil && !errors.Is(err, events.ErrInvalid)) {
				t.Fatalf("Of = %v, %v; want %v, invalid %v", got, err, tt.want, tt.invalid)
			}
		})
	}
}

func TestMarkRoundTrips(t *testing.T) {
	for _, p := range plane.All() {
		e := newEvent("true")
		plane.Mark(&e, p)
		if got, err := plane.Of(e); got != p || err != nil {
			t.Errorf("Of(Mark(%v)) = %v, %v", p, got, err)
		}
		if _, has := e.Extensions()[plane.Extension]; has != (p == plane.Shadow) {
			t.Errorf("Mark(%v): extension present = %v", p, has)
		}
	}
}

func TestWhereStateLives(t *testing.T) {
	base := keyspace.New("surge")
	tests := []struct {
		p                    plane.Plane
		meta, schema, prefix string
	}{
		{plane.Real, "surge:{c:x}:meta", "", ""},
		{plane.Shadow, "surge:shadow:{c:x}:meta", plane.ShadowSchema, "shadow/"},
	}
	for _, tt := range tests {
		if got := tt.p.Keys(base).Campaign("x").Meta(); got != tt.meta {
			t.Errorf("%v meta key = %q; want %q", tt.p, got, tt.meta)
		}
		if tt.p.Schema() != tt.schema || tt.p.ObjectPrefix() != tt.prefix {
			t.Errorf("%v: schema %q, object prefix %q; want %q, %q", tt.p, tt.p.Schema(), tt.p.ObjectPrefix(), tt.schema, tt.prefix)
		}
		if got, err := plane.Parse(tt.p.String()); got != tt.p || err != nil {
			t.Errorf("Parse(%q) = %v, %v", tt.p.String(), got, err)
		}
	}
	if _, err := plane.Parse("Shadow"); err == nil {
		t.Error(`Parse("Shadow") succeeded; want an error`)
	}
}

// recorder is an event function that records what it was given and
// replies with an unmarked event.
type recorder struct {
	name string
	got  []string
	stop bool
}

func (r *recorder) Handle(_ context.Context, e event.Event) (*event.Event, error) {
	r.got = append(r.got, e.ID())
	reply := event.New()
	reply.SetID(e.ID() + "/" + r.name)
	reply.SetType(events.TypeClaimReserved)
	reply.SetSource(events.SourcePrededuct)
	return &reply, nil
}

func (r *recorder) Stop(context.Context) error { r.stop = true; return nil }

// TestEventsChoosesByExtension: an event reaches only its plane's function,
// the reply carries the plane, and an event of no plane reaches neither.
func TestEventsChoosesByExtension(t *testing.T) {
	real, shadow := &recorder{name: "real"}, &recorder{name: "shadow"}
	s := plane.NewEvents(plane.Each[*recorder]{real, shadow})
	tests := []struct {
		name      string
		ext       any
		wantReply string
		want      plane.Plane
	}{
		{"real event", nil, "c.1/real", plane.Real},
		{"shadow event", "true", "c.1/shadow", plane.Shadow},
	}
	for _, tt := range tests {
		reply, err := s.Handle(context.Background(), newEvent(tt.ext))
		if err != nil || reply == nil || reply.ID() != tt.wantReply {
			t.Fatalf("%s: reply %v, %v; want %s", tt.name, reply, err, tt.wantReply)
		}
		if got, _ := plane.Of(*reply); got != tt.want {
			t.Errorf("%s: reply on the %v plane; want %v", tt.name, got, tt.want)
		}
	}
	if _, err := s.Handle(context.Background(), newEvent("yes")); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("event of no plane: err = %v; want ErrInvalid", err)
	}
	if len(real.got) != 1 || len(shadow.got) != 1 {
		t.Errorf("real got %v, shadow got %v; want one event each", real.got, shadow.got)
	}
	if err := s.Stop(context.Background()); err != nil || !real.stop || !shadow.stop {
		t.Errorf("Stop = %v; stopped real %v, shadow %v; want both", err, real.stop, shadow.stop)
	}
}

// TestRequestsChooseByCaller: only a valid JWT with "shadow": true reaches
// the shadow handler, which sees the caller verified once.
func TestRequestsChooseByCaller(t *testing.T) {
	secret := []byte("plane-test-secret")
	users := auth.NewUsers(secret)
	sign := func(key []byte, c auth.Caller) string {
		tok, err := auth.Sign(key, c, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	served := func(p plane.Plane) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := users.Verify(r)
			w.Header().Set("Plane", p.String())
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(c.User))
		})
	}
	q := plane.NewRequests(plane.ByCaller(users), plane.Each[http.Handler]{served(plane.Real), served(plane.Shadow)})
	tests := []struct {
		name, authz, shadowHeader string
		plane                     string
		status                    int
	}{
		{"real token", sign(secret, auth.Caller{User: "alice"}), "", "real", 200},
		{"shadow token", sign(secret, auth.Caller{User: "alice", Shadow: true}), "", "shadow", 200},
		{"forged shadow token", sign([]byte("not-the-secret"), auth.Caller{User: "alice", Shadow: true}), "", "real", 401},
		{"real token and a shadow header", sign(secret, auth.Caller{User: "alice"}), "true", "real", 200},
		{"no token", "", "true", "real", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.authz != "" {
				r.Header.Set("Authorization", tt.authz)
			}
			if tt.shadowHeader != "" {
				r.Header.Set("X-Surge-Shadow", tt.shadowHeader)
				r.Header.Set("Ce-Surgeshadow", tt.shadowHeader)
			}
			w := httptest.NewRecorder()
			q.ServeHTTP(w, r)
			if got := w.Header().Get("Plane"); got != tt.plane || w.Code != tt.status {
				t.Fatalf("served by %s with %d; want %s with %d", got, w.Code, tt.plane, tt.status)
			}
		})
	}
}

// TestUserOfItsPlane: a function's caller must be of its plane; one of the
// other is an internal error, not a 401 (only a wiring mistake sends one).
func TestUserOfItsPlane(t *testing.T) {
	secret := []byte("plane-test-secret")
	users := auth.NewUsers(secret)
	tok, err := auth.Sign(secret, auth.Caller{User: "alice", Shadow: true}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if u, err := plane.User(users, r, plane.Shadow); u != "alice" || err != nil {
		t.Errorf("User on the shadow plane = %q, %v; want alice", u, err)
	}
	if u, err := plane.User(users, r, plane.Real); u != "" || err == nil || errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("User on the real plane = %q, %v; want an internal error", u, err)
	}
}
