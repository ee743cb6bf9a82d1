package plane

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/fn"
)

// Events serves an event function on both planes: each event is handled
// by the function of its plane (Of), and the reply is marked with that
// plane (Mark). The functions' hooks run on both.
type Events struct {
	hooks
	handlers Each[fn.EventHandler]
}

var _ fn.EventHandler = (*Events)(nil)

// NewEvents serves handlers, one per plane.
func NewEvents[T fn.EventHandler](handlers Each[T]) *Events {
	e := &Events{hooks: hooksOf(handlers)}
	for _, p := range All() {
		e.handlers[p] = handlers[p]
	}
	return e
}

// Handle runs e on its plane's function; an event of no plane is poison.
func (s *Events) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	p, err := Of(e)
	if err != nil {
		return nil, err
	}
	reply, err := s.handlers[p].Handle(ctx, e)
	if reply != nil {
		Mark(reply, p)
	}
	return reply, err
}
