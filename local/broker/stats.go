package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// TriggerStats is one trigger's delivery state: its durable consumer as
// JetStream sees it, and the deliveries its dispatcher has in hand. A
// backlog with idle workers and no waiting pull request is a stalled
// consumer; a backlog with every worker busy is a slow subscriber.
type TriggerStats struct {
	Trigger     string `json:"trigger"`
	Pending     uint64 `json:"pending"`     // stored and matching, not yet delivered
	AckPending  int    `json:"ack_pending"` // delivered to the dispatcher, not yet acknowledged
	Redelivered int    `json:"redelivered"` // among those, delivered more than once
	Waiting     int    `json:"waiting"`     // pull requests waiting at the server
	Delivered   uint64 `json:"delivered"`   // deliveries so far (the consumer sequence)
	Busy        int64  `json:"busy"`        // deliveries in hand: sending, retrying or waiting out a backoff
	Workers     int    `json:"workers"`
}

// statsTimeout bounds one read of every consumer's state.
const statsTimeout = 5 * time.Second

// Stats reads every trigger's delivery state.
func (b *Broker) Stats(ctx context.Context) ([]TriggerStats, error) {
	out := make([]TriggerStats, 0, len(b.dispatchers))
	for _, d := range b.dispatchers {
		info, err := d.cons.Info(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, TriggerStats{Trigger: d.route.name, Pending: info.NumPending, AckPending: info.NumAckPending,
			Redelivered: info.NumRedelivered, Waiting: info.NumWaiting, Delivered: info.Delivered.Consumer,
			Busy: d.busy.Load(), Workers: d.workers})
	}
	return out, nil
}

// serveStats answers GET /debug/triggers with Stats as JSON.
func (b *Broker) serveStats(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), statsTimeout)
	defer cancel()
	stats, err := b.Stats(ctx)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "stats_unavailable", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(stats)
}
