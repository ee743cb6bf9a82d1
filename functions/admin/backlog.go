package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Stage is one trigger of the broker: the events waiting for its
// subscriber and those in hand.
type Stage struct {
	Trigger     string `json:"trigger"`
	Pending     uint64 `json:"pending"`     // stored, not yet delivered
	AckPending  int    `json:"ack_pending"` // delivered, not yet acknowledged
	Redelivered int    `json:"redelivered"`
	Busy        int64  `json:"busy"`
}

// Backlog is the broker's backlog per stage, when it can be read.
type Backlog struct {
	Available bool    `json:"available"`
	Reason    string  `json:"reason,omitempty"` // why it is not
	Stages    []Stage `json:"stages,omitempty"`
}

// BrokerStats reads the local broker's GET /debug/triggers
// (SURGE_BROKER_STATS_URL). On Knative there is none: a nil BrokerStats
// answers "not available".
type BrokerStats struct {
	url     string
	client  *http.Client
	timeout time.Duration
}

// NewBrokerStats returns the reader of url; nil when url is empty.
func NewBrokerStats(url string, timeout time.Duration) *BrokerStats {
	if url == "" {
		return nil
	}
	return &BrokerStats{url: url, client: &http.Client{}, timeout: timeout}
}

// maxStatsBody bounds the broker's answer.
const maxStatsBody = 1 << 20

func (b *BrokerStats) read(ctx context.Context) Backlog {
	if b == nil {
		return Backlog{Reason: "not available: no local broker (SURGE_BROKER_STATS_URL unset)"}
	}
	stages, err := b.stages(ctx)
	if err != nil {
		return Backlog{Reason: "not available: " + err.Error()}
	}
	return Backlog{Available: true, Stages: stages}
}

func (b *BrokerStats) stages(ctx context.Context) ([]Stage, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("broker stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("broker stats: status %d", resp.StatusCode)
	}
	var stages []Stage
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatsBody)).Decode(&stages); err != nil {
		return nil, fmt.Errorf("broker stats: %w", err)
	}
	return stages, nil
}
