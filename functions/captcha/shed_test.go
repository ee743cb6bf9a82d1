package main

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

// A stopped broker: every claim is answered 503 + Retry-After within the
// publish deadline, none leaves a record behind; once the broker is back
// every accepted claim has its record and its event.
func TestStoppedBrokerSheds(t *testing.T) {
	fx := newFixtureWith(t, captcha.Config{}, func(d *Deps) { d.PublishTimeout = 150 * time.Millisecond })
	fx.warm(t, "open", false)
	resume := fx.sink.Pause()
	defer resume()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			start := time.Now()
			w := fx.call(t, "/v1/campaigns/open/claims", token(t, "u"+strconv.Itoa(i)), map[string]any{"sku": "cup", "qty": 1})
			if took := time.Since(start); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || took > time.Second {
				t.Errorf("claim with the broker stopped: %d %v in %v; want 503 + Retry-After within 1s", w.Code, w.Header(), took)
			}
		})
	}
	wg.Wait()
	if n := fx.claimKeys(t); n != 0 {
		t.Fatalf("%d claim records with the broker stopped; want 0", n)
	}
	resume()
	for i := range 5 {
		if w := fx.call(t, "/v1/campaigns/open/claims", token(t, "u"+strconv.Itoa(i)), map[string]any{"sku": "cup", "qty": 1}); w.Code != http.StatusAccepted {
			t.Fatalf("claim after resume: %d %s; want 202", w.Code, w.Body)
		}
	}
	if records, published := fx.claimKeys(t), len(fx.sink.Events()); records != 5 || published != 5 {
		t.Fatalf("%d records, %d events after resume; want 5 and 5", records, published)
	}
}

// Past MaxInflight claims at once, the next is answered 503 at once.
func TestInflightBoundSheds(t *testing.T) {
	fx := newFixtureWith(t, captcha.Config{}, func(d *Deps) { d.MaxInflight, d.PublishTimeout = 2, 3*time.Second })
	fx.warm(t, "open", false)
	resume := fx.sink.Pause()
	body := map[string]any{"sku": "cup", "qty": 1}
	var held sync.WaitGroup
	for i := range 2 {
		held.Go(func() {
			if w := fx.call(t, "/v1/campaigns/open/claims", token(t, "held"+strconv.Itoa(i)), body); w.Code != http.StatusAccepted {
				t.Errorf("held claim: %d %s; want 202 once the broker is back", w.Code, w.Body)
			}
		})
	}
	for deadline := time.Now().Add(2 * time.Second); len(fx.f.inflight) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two claims never got in flight")
		}
	}
	start := time.Now()
	w := fx.call(t, "/v1/campaigns/open/claims", token(t, "third"), body)
	if took := time.Since(start); w.Code != http.StatusServiceUnavailable || httpapitest.ErrorCode(w) != "overloaded" ||
		w.Header().Get("Retry-After") != "1" || took > 100*time.Millisecond {
		t.Fatalf("third claim: %d %s %v in %v; want 503 overloaded, Retry-After 1, at once", w.Code, w.Body, w.Header(), took)
	}
	resume()
	held.Wait()
	if n := fx.claimKeys(t); n != 2 {
		t.Fatalf("%d claim records; want the 2 held ones (the shed one wrote nothing)", n)
	}
}
