// Package httpapitest drives a handler of the public API in a test and reads
// its answers in the wire shapes of package httpapi.
//
//	w := httpapitest.Do(t, h, http.MethodPost, "/v1/campaigns", token, body)
//	if w.Code != http.StatusBadRequest || httpapitest.ErrorCode(w) != "invalid_campaign" { ... }
package httpapitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Do serves one request to h and returns the recorded response. body is
// sent as is when it is a []byte and as JSON otherwise (nil: no body);
// a body goes with Content-Type: application/json; bearer, when not empty,
// goes in the Authorization header; header holds further name, value pairs
// (which may replace the Content-Type, or blank it with "").
func Do(t testing.TB, h http.Handler, method, path, bearer string, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok && body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatalf("httpapitest.Do: %v", err)
		}
	}
	r := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// ErrorCode is the code of a public error answer ({"error": {"code"}}),
// "" when w is not one.
func ErrorCode(w *httptest.ResponseRecorder) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error.Code
}

// Decode is w's JSON body as a T; the test fails when it is not one.
func Decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body.String(), err)
	}
	return v
}
