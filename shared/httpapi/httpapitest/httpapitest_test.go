package httpapitest_test

import (
	"net/http"
	"testing"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

// echo answers the JSON body, the bearer and one header, or 401 without a
// bearer.
func echo(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		httpapi.WriteError(w, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "no token"))
		return
	}
	var in map[string]any
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"body": in,
		"auth": r.Header.Get("Authorization"), "key": r.Header.Get("Idempotency-Key")})
}

func TestDoSendsJSONBearerAndHeaders(t *testing.T) {
	w := httpapitest.Do(t, http.HandlerFunc(echo), http.MethodPost, "/", "tok", map[string]int{"n": 1}, "Idempotency-Key", "k-1")
	got := httpapitest.Decode[struct {
		Body map[string]int
		Auth string
		Key  string
	}](t, w)
	if w.Code != http.StatusOK || got.Body["n"] != 1 || got.Auth != "Bearer tok" || got.Key != "k-1" {
		t.Fatalf("got %d %+v; want 200 echoing n=1, Bearer tok, k-1", w.Code, got)
	}
	if code := httpapitest.ErrorCode(w); code != "" {
		t.Errorf("ErrorCode of a 200 answer = %q; want empty", code)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name, bearer string
		body         any
		want         string
	}{
		{"no bearer", "", nil, "unauthorized"},
		{"raw bytes sent as is", "tok", []byte("{"), "malformed_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httpapitest.Do(t, http.HandlerFunc(echo), http.MethodPost, "/", tt.bearer, tt.body)
			if got := httpapitest.ErrorCode(w); got != tt.want {
				t.Errorf("ErrorCode = %q; want %q", got, tt.want)
			}
		})
	}
}
