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
)

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
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
