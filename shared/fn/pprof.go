package fn

import (
	"net/http"
	"net/http/pprof"
)

// PprofEnabled reports whether SURGE_PPROF ("true" or "1") asks Run to
// serve net/http/pprof beside the function. It is off unless set: `make
// bench` turns it on to profile the functions under load; production never
// does.
func PprofEnabled(getenv func(string) string) bool {
	v := getenv("SURGE_PPROF")
	return v == "true" || v == "1"
}

// Option changes how Run and Handler host a function.
type Option func(*host)

// WithPprof serves the net/http/pprof handlers under /debug/pprof/ when on.
func WithPprof(on bool) Option {
	return func(h *host) { h.pprof = on }
}

// ServePprof registers the net/http/pprof handlers under /debug/pprof/ on
// mux; the local broker serves them the same way.
func ServePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
