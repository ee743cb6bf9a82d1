// Package fntest serves a Surge function in a test as fn.Run serves it, and
// delivers CloudEvents to it in binary mode, the way the broker does.
//
//	srv := fntest.Serve(t, f)
//	status, reply := fntest.Post(t, srv.URL, e)
package fntest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/shared/fn"
)

// Handler is f as fn.Run serves it (health paths included), logging
// nowhere.
func Handler(t testing.TB, f fn.Function) http.Handler {
	t.Helper()
	h, err := fn.Handler(slog.New(slog.DiscardHandler), f)
	if err != nil {
		t.Fatalf("fntest.Handler: %v", err)
	}
	return h
}

// Serve serves f on an httptest server closed at cleanup. It does not call
// f's Start or Stop: the test decides when.
func Serve(t testing.TB, f fn.Function) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(t, f))
	t.Cleanup(srv.Close)
	return srv
}

// Request is e as a binary-mode POST to url.
func Request(t testing.TB, url string, e event.Event) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatalf("fntest.Request: %v", err)
	}
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatalf("fntest.Request: %v", err)
	}
	return req
}

// Post delivers e to url in binary mode and returns the status and the
// reply event: nil unless the status is 200.
func Post(t testing.TB, url string, e event.Event) (int, *event.Event) {
	t.Helper()
	return Reply(t, Request(t, url, e))
}

// Reply sends req and returns the status and the reply event: nil unless
// the status is 200.
func Reply(t testing.TB, req *http.Request) (int, *event.Event) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fntest.Reply: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	reply, err := cehttp.NewEventFromHTTPResponse(resp)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	return resp.StatusCode, reply
}

// Body sends req and returns the status and the whole response body.
func Body(t testing.TB, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fntest.Body: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("fntest.Body: %v", err)
	}
	return resp.StatusCode, body
}
