package fntest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/fn/fntest"
)

// echo replies with the event it gets, or poison for type "bad".
type echo struct{}

func (echo) Handle(_ context.Context, e event.Event) (*event.Event, error) {
	if e.Type() == "bad" {
		return nil, fmt.Errorf("%w: bad", fn.ErrPoison)
	}
	reply := e.Clone()
	reply.SetID(e.ID() + "/reply")
	return &reply, nil
}

func input(typ string) event.Event {
	e := event.New()
	e.SetID("e-1")
	e.SetType(typ)
	e.SetSource("/test")
	_ = e.SetData(event.ApplicationJSON, map[string]int{"n": 1})
	return e
}

func TestPost(t *testing.T) {
	srv := fntest.Serve(t, echo{})
	status, reply := fntest.Post(t, srv.URL, input("good"))
	if status != http.StatusOK || reply == nil || reply.ID() != "e-1/reply" || string(reply.Data()) != `{"n":1}` {
		t.Fatalf("Post = %d, %v; want 200 with reply e-1/reply carrying the data", status, reply)
	}
	if status, reply := fntest.Post(t, srv.URL, input("bad")); status != http.StatusBadRequest || reply != nil {
		t.Fatalf("Post of poison = %d, %v; want 400 and no reply", status, reply)
	}
}

func TestBody(t *testing.T) {
	srv := fntest.Serve(t, echo{})
	status, body := fntest.Body(t, fntest.Request(t, srv.URL, input("good")))
	if status != http.StatusOK || string(body) != `{"n":1}` {
		t.Fatalf("Body = %d, %s; want 200 and the reply data", status, body)
	}
}
