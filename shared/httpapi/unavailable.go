package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// ErrStoreUnavailable answers a call that failed because Redis or
// PostgreSQL could not be reached (down, restarting, not answering in
// time): 503 with Retry-After, as `make up` restarts a store within a
// second or two. WriteError sends it for such an error.
var ErrStoreUnavailable = Errorf(http.StatusServiceUnavailable, "store_unavailable",
	"a data store is unreachable; retry shortly")

// storeDown reports whether err says a store was not reached or dropped
// the connection, rather than what the call asked being wrong: a network
// error (refused, reset, i/o timeout), a deadline, a connection cut
// mid-reply, a driver's "never sent, safe to retry" (a closed pgx
// connection), or PostgreSQL's connection-exception and shutdown states
// (SQLSTATE class 08, 57P01-57P03). It needs no driver import: drivers'
// errors are matched by the methods they carry.
func storeDown(err error) bool {
	var netErr net.Error
	var retry interface{ SafeToRetry() bool }
	var state interface{ SQLState() string }
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &retry) && retry.SafeToRetry():
		return true
	case errors.As(err, &state):
		s := state.SQLState()
		return strings.HasPrefix(s, "08") || s == "57P01" || s == "57P02" || s == "57P03"
	}
	return false
}
