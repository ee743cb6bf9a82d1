package fn_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/fn"
)

// binaryRequest is the header and body of e as a binary-mode request.
func binaryRequest(b *testing.B, e event.Event) (http.Header, []byte) {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		b.Fatal(err)
	}
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(req.Body); err != nil {
		b.Fatal(err)
	}
	return req.Header, body.Bytes()
}

// BenchmarkEventHost serves a binary-mode claim.requested through the host
// to a handler that answers with a prebuilt claim.rejected: the cost of
// being a CloudEvents function, without the function. The request and the
// response writer are reused, so what is measured is the host.
func BenchmarkEventHost(b *testing.B) {
	reply := events.ClaimRejected(events.ClaimRejectedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", Reason: "sold_out"}, input().Time())
	h, err := fn.Handler(discard, &function{reply: &reply})
	if err != nil {
		b.Fatal(err)
	}
	header, body := binaryRequest(b, input())
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header = header
	req.ContentLength = int64(len(body))
	in := &rewind{}
	w := &sinkWriter{header: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		in.Reset(body)
		req.Body = in
		clear(w.header)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status = %d; want 200", w.status)
		}
	}
}

// rewind is a request body that can be read again.
type rewind struct{ bytes.Reader }

func (*rewind) Close() error { return nil }

// sinkWriter is a ResponseWriter that keeps the status and drops the body.
type sinkWriter struct {
	header http.Header
	status int
}

func (w *sinkWriter) Header() http.Header         { return w.header }
func (w *sinkWriter) WriteHeader(status int)      { w.status = status }
func (w *sinkWriter) Write(p []byte) (int, error) { return len(p), nil }
