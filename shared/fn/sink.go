package fn

import (
	"context"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
)

// Sink sends events to K_SINK, the broker ingress a SinkBinding injects.
type Sink struct {
	client cloudevents.Client
}

// NewSink returns a Sink posting binary-mode CloudEvents to url.
func NewSink(url string) (*Sink, error) {
	if url == "" {
		return nil, fmt.Errorf("new sink: K_SINK is empty")
	}
	c, err := cloudevents.NewClientHTTP(cloudevents.WithTarget(url))
	if err != nil {
		return nil, fmt.Errorf("new sink: %w", err)
	}
	return &Sink{client: c}, nil
}

// Send returns nil only when the broker acknowledged (stored) the event.
func (s *Sink) Send(ctx context.Context, e event.Event) error {
	if res := s.client.Send(ctx, e); !cloudevents.IsACK(res) {
		return fmt.Errorf("send %s %s: %w", e.Type(), e.ID(), res)
	}
	return nil
}
