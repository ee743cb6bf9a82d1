package main

import (
	"context"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/fn"
	"github.com/surgekit/surge/shared/plane"
)

// planes serves reconcile on both planes (plane.Events), but for a dead
// letter whose plane cannot be told (its surgeshadow is neither absent nor
// "true": the event was poison for that very reason). Refusing it would
// make the broker retry its dead-letter sink forever, so it is stored on
// the real plane, as it is, and finalises no claim of either plane.
type planes struct {
	*plane.Events
	real *Function
}

var _ fn.EventHandler = planes{}

func newPlanes(fns plane.Each[*Function]) planes {
	return planes{Events: plane.NewEvents(fns), real: fns[plane.Real]}
}

func (p planes) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	if _, err := plane.Of(e); err != nil && deadletter.Is(e) {
		ctx, cancel := context.WithTimeout(ctx, p.real.cfg.Timeout)
		defer cancel()
		if err := p.real.letters.Put(ctx, e); err != nil {
			return nil, fmt.Errorf("dead letter of no plane: %w", err)
		}
		return nil, nil
	}
	return p.Events.Handle(ctx, e)
}
