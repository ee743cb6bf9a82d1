package fn

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/metrics"
)

// MaxEventBytes bounds an incoming event; larger bodies get 413.
const MaxEventBytes = 1 << 20

// eventHost turns HTTP requests into Handle calls and results into status
// codes and reply events.
type eventHost struct {
	fn  EventHandler
	log *slog.Logger
	obs *observer // its span and line; an outer host's when nested (inherited)
}

func (h *eventHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		httpapi.WriteError(w, httpapi.Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "CloudEvents are POSTed"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxEventBytes)
	e, err := readEvent(r)
	if err != nil {
		h.rejectMalformed(w, err)
		return
	}
	if err := e.Validate(); err != nil {
		h.rejectMalformed(w, err)
		return
	}
	noteRoute(r.Context(), shortType(metrics.EventType(e.Type())))
	obs := inherited(r.Context(), h.obs)
	if obs.off() {
		reply, err := h.fn.Handle(r.Context(), *e)
		h.respond(w, r, e, reply, err)
		return
	}
	start := time.Now()
	ctx, span := obs.startEvent(r.Context(), e)
	reply, err := h.fn.Handle(ctx, *e)
	obs.endEvent(ctx, span, e, reply, err, start)
	h.respond(w, r, e, reply, err)
}

func (h *eventHost) rejectMalformed(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		httpapi.WriteError(w, httpapi.Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "event body over 1 MiB"))
		return
	}
	h.log.Warn("malformed cloudevent", "error", err.Error())
	httpapi.WriteError(w, httpapi.Errorf(http.StatusBadRequest, "malformed_event", "%v", err))
}

func (h *eventHost) respond(w http.ResponseWriter, r *http.Request, in *event.Event, reply *event.Event, err error) {
	if errors.Is(err, ErrPaused) { // the operator's choice, not a failure to log per event
		w.Header().Set(PausedHeader, "true")
		httpapi.WriteError(w, httpapi.Errorf(http.StatusServiceUnavailable, "paused", "%v", err).WithRetryAfter(time.Second))
		return
	}
	if err != nil {
		status := Status(err)
		h.logFor(in).Error("handle event", "status", status, "error", err.Error())
		httpapi.WriteError(w, httpapi.Errorf(status, "handle_failed", "%v", err))
		return
	}
	if reply == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if werr := writeReply(r, w, reply); werr != nil {
		h.logFor(in).Error("write reply", "error", werr.Error())
	}
}

// logFor is the host's logger tagged with in, built only when there is
// something to log.
func (h *eventHost) logFor(in *event.Event) *slog.Logger {
	return h.log.With("event_id", in.ID(), "event_type", in.Type(), "event_source", in.Source())
}

// writeReply writes reply as a 200 binary-mode response: directly when it
// is a 1.0 event (every Surge event), else through the sdk.
func writeReply(r *http.Request, w http.ResponseWriter, reply *event.Event) error {
	if _, ok := reply.Context.(*event.EventContextV1); ok {
		return writeBinary(w, reply, http.StatusOK)
	}
	return cehttp.WriteResponseWriter(r.Context(), binding.ToMessage(reply), http.StatusOK, w)
}
