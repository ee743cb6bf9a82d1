package fn

import (
	"context"
	"errors"
	"net/http"

	"github.com/surgekit/surge/events"
)

// Errors a handler wraps to choose how the broker treats a failed event.
// Anything else is a 500, which the broker retries.
var (
	// ErrPoison: no retry can fix this event (400, dead-lettered at once).
	ErrPoison = errors.New("poison event")
	// ErrConflict: the event came too early, e.g. before the state it needs (409, retried).
	ErrConflict = errors.New("conflict")
	// ErrBusy: shed load (429, retried after backoff).
	ErrBusy = errors.New("busy")
	// ErrPaused: the operator paused this work (a degrade switch): 503
	// with the PausedHeader, on which the local broker keeps the event and
	// delivers it again later without spending an attempt.
	ErrPaused = errors.New("paused")
)

// PausedHeader marks a 503 answered for ErrPaused.
const PausedHeader = "Surge-Paused"

// Status maps a handler's error to its Knative data-plane status code, the
// one place a function decides between retry and dead letter.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusAccepted
	case errors.Is(err, ErrPoison), errors.Is(err, events.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrBusy):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrPaused):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
