// Package deadletter owns table dead_letters: the events the broker gave
// up on, stored by reconcile (the dead-letter sink), listed and redriven
// by admin. A redrive republishes the stored event with its original id,
// source and signature, so every downstream handler, idempotent on
// source + id, does its work at most once.
package deadletter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/events"
)

// Extensions a Knative broker adds to a dead letter: the HTTP status it
// last got, the subscriber that refused it and that answer's body.
const (
	ExtErrorCode = "knativeerrorcode"
	ExtErrorDest = "knativeerrordest"
	extErrorPre  = "knativeerror"
)

// Is reports whether e is a dead letter: Knative functions have one
// handler, so the dead-letter sink is told by the extension the broker adds.
func Is(e event.Event) bool {
	_, ok := e.Extensions()[ExtErrorCode]
	return ok
}

// Letter is one stored dead letter.
type Letter struct {
	ID           int64           `json:"id"`
	EventID      string          `json:"event_id"`
	EventType    string          `json:"event_type"`
	Source       string          `json:"source"`
	CampaignID   *string         `json:"campaign_id"`
	ErrorCode    *int            `json:"error_code"`
	ErrorDest    *string         `json:"error_dest"`
	ReceivedAt   time.Time       `json:"received_at"`
	RedrivenAt   *time.Time      `json:"redriven_at"`
	RedriveCount int             `json:"redrive_count"`
	Event        json.RawMessage `json:"event"`
}

// Redrive is the event to publish again: the stored one, as it first
// reached the broker, without the extensions the broker added when it
// gave up on it (knativeerror*), numbered as the next redrive
// (events.RedriveExtension). Its signature (surgesig) and plane
// (surgeshadow) are kept: the signature covers neither of those.
func (l Letter) Redrive() (event.Event, error) {
	var e event.Event
	if err := json.Unmarshal(l.Event, &e); err != nil {
		return e, fmt.Errorf("dead letter %d: %w", l.ID, err)
	}
	for name := range e.Extensions() {
		if strings.HasPrefix(name, extErrorPre) {
			e.SetExtension(name, nil)
		}
	}
	e.SetExtension(events.RedriveExtension, strconv.Itoa(l.RedriveCount+1))
	return e, nil
}

// campaignOf is the campaign of e's partitionkey (campaign/user), or nil.
func campaignOf(e event.Event) *string {
	s := extString(e, events.PartitionKeyExtension)
	if s == nil {
		return nil
	}
	c, _, _ := strings.Cut(*s, "/")
	if c == "" {
		return nil
	}
	return &c
}

// ErrorCode is the HTTP status the broker last got for dead letter e, or
// nil.
func ErrorCode(e event.Event) *int {
	s := extString(e, ExtErrorCode)
	if s == nil {
		return nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		return nil
	}
	return &n
}

func extString(e event.Event, name string) *string {
	v, ok := e.Extensions()[name]
	if !ok {
		return nil
	}
	s := fmt.Sprint(v)
	return &s
}
