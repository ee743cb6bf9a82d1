package main

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/eventsig"
)

// signedSink signs every event before next sends it: prededuct takes a
// claim.requested only with captcha's signature (SURGE_EVENT_KEY), so
// nobody else who can reach the broker can start a claim.
type signedSink struct {
	next Publisher
	key  *eventsig.Key
}

func (s signedSink) Send(ctx context.Context, e event.Event) error {
	if err := s.key.Sign(&e); err != nil {
		return err
	}
	return s.next.Send(ctx, e)
}
