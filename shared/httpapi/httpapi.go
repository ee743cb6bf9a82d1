// Package httpapi holds the public API's wire conventions: JSON bodies, the
// error shape {"error": {"code", "message"}}, and bounded request decoding.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// MaxBodyBytes bounds a request body of the public API; larger ones get 413.
const MaxBodyBytes = 16 << 10

// Error is an API error: a status, a stable machine-readable code and a
// message for people.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter is when to retry: Retry-After in whole seconds (at least
	// 1) and Retry-After-Ms. A 429 or 503 always carries them (zero is one
	// second); another status only when RetryAfter is set (409 not_settled).
	RetryAfter time.Duration `json:"-"`
}

// WithRetryAfter is a copy of e telling the client to retry after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf builds an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// outcomeNoter is the function host's response writer (shared/fn): it
// puts the code of the error written in the request's log line and span.
type outcomeNoter interface{ NoteOutcome(code string) }

// WriteError writes err in the public error shape. An error that is not an
// *Error is an internal one (its text is not shown to the client): 503
// ErrStoreUnavailable when it says a store could not be reached, else 500.
func WriteError(w http.ResponseWriter, err error) {
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
	case storeDown(err):
		apiErr = ErrStoreUnavailable
	default:
		apiErr = Errorf(http.StatusInternalServerError, "internal", "internal error")
	}
	if n, ok := w.(outcomeNoter); ok {
		n.NoteOutcome(apiErr.Code)
	}
	if apiErr.Status == http.StatusServiceUnavailable || apiErr.Status == http.StatusTooManyRequests || apiErr.RetryAfter > 0 {
		writeRetryAfter(w.Header(), apiErr.RetryAfter)
	}
	WriteJSON(w, apiErr.Status, map[string]*Error{"error": apiErr})
}

func writeRetryAfter(h http.Header, d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	h.Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10))
	h.Set("Retry-After-Ms", strconv.FormatInt(max(1, d.Milliseconds()), 10))
}

// NotFound answers a request that no route matches, in the public error
// shape: 404 not_found. Register it at "/" of a ServeMux.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, Errorf(http.StatusNotFound, "not_found", "no route for %s %s", r.Method, r.URL.Path))
}

// DecodeJSON reads a JSON object of at most MaxBodyBytes into v, rejecting
// unknown fields and trailing data: 415 unless the Content-Type is
// application/json (parameters such as charset allowed), 413 when too
// large, 400 when malformed.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as Content-Type: application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "request body over %d bytes", MaxBodyBytes)
		}
		return Errorf(http.StatusBadRequest, "unreadable_body", "read body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(http.StatusBadRequest, "malformed_json", "%v", err)
	}
	// Not dec.More(): it is false at a stray '}' or ']', which Token reports
	// as an error (or a delimiter) instead of io.EOF.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(http.StatusBadRequest, "malformed_json", "trailing data after the JSON object")
	}
	return nil
}

// isJSON reports whether a Content-Type names application/json.
func isJSON(contentType string) bool {
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && media == "application/json"
}
