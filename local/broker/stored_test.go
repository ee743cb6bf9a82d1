package broker

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/surgekit/surge/events"
)

func fullEvent() event.Event {
	e := newEvent("full-1", "test.full.v1")
	e.SetSubject("subject-1")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC))
	e.SetDataSchema("https://example.com/schema")
	e.SetExtension("tier", "vip")
	e.SetExtension("knativeerrorcode", 503)
	e.SetExtension("flag", true)
	return e
}

// TestStoredRoundTrip stores events through a real JetStream and reads
// them back: binary mode when the headers carry the event unchanged, the
// JSON event otherwise.
func TestStoredRoundTrip(t *testing.T) {
	v03 := fullEvent()
	v03.SetSpecVersion(event.CloudEventsVersionV03)
	newline := fullEvent()
	newline.SetSubject("two\nlines")
	padded := fullEvent()
	padded.SetExtension("tier", " vip ")
	noData := newEvent("empty", "test.empty.v1")
	noData.DataEncoded = nil
	noData.SetDataContentType("")
	base64 := fullEvent()
	if err := json.Unmarshal([]byte(`{"specversion":"1.0","id":"b64","type":"test.b64.v1","source":"/test",
		"datacontenttype":"application/octet-stream","data_base64":"AAEC/w=="}`), &base64); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		e      event.Event
		binary bool
	}{
		{"claim.requested", events.ClaimRequested(events.ClaimRequestedData{ClaimID: "c1.a", CampaignID: "c1", UserID: "u", SKU: "s", Qty: 1}), true},
		{"every attribute, extensions", fullEvent(), true},
		{"no data", noData, true},
		{"data_base64", base64, true},
		{"spec 0.3", v03, false},
		{"newline in subject", newline, false},
		{"blanks around a value", padded, false},
	}
	st, cons := testStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := storedMsg("events."+tt.e.Type(), &tt.e)
			if err != nil {
				t.Fatalf("storedMsg: %v", err)
			}
			if _, err := st.publish(t.Context(), msg, ""); err != nil { // some share an id
				t.Fatalf("publish: %v", err)
			}
			got := fetchOne(t, cons)
			if binary := len(got.Headers()["Ce-Specversion"]) > 0; binary != tt.binary {
				t.Errorf("stored in binary mode = %v; want %v", binary, tt.binary)
			}
			e, err := decodeStored(got.Headers(), got.Data())
			if err != nil {
				t.Fatalf("decodeStored: %v", err)
			}
			sameStored(t, e, &tt.e, tt.binary)
		})
	}
}

// testStore opens a store with a consumer of every event.
func testStore(t *testing.T) (*store, jetstream.Consumer) {
	t.Helper()
	cfg := Config{StoreDir: t.TempDir()}
	cfg.fill()
	st, err := openStore(t.Context(), cfg)
	if err != nil {
		t.Fatalf("openStore: %v", err)
	}
	t.Cleanup(st.close)
	cons, err := st.stream.CreateOrUpdateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	return st, cons
}

func fetchOne(t *testing.T, cons jetstream.Consumer) jetstream.Msg {
	t.Helper()
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if err := msg.Ack(); err != nil {
		t.Fatalf("ack: %v", err)
	}
	return msg
}

// sameStored compares a stored event with the one stored; extensions come
// back as the strings headers carry when it was stored in binary mode.
func sameStored(t *testing.T, got, stored *event.Event, binary bool) {
	t.Helper()
	want := stored.Clone()
	if binary {
		for k, v := range want.Extensions() {
			s, err := types.Format(v)
			if err != nil {
				t.Fatal(err)
			}
			want.SetExtension(k, s)
		}
	}
	if !reflect.DeepEqual(got.Context, want.Context) {
		t.Errorf("context = %s; want %s", got.Context, want.Context)
	}
	if !bytes.Equal(got.Data(), want.Data()) {
		t.Errorf("data = %q; want %q", got.Data(), want.Data())
	}
}

// TestJSONStoreStillDelivers publishes events as the previous version
// stored them (the JSON event as the body, no headers but the message id)
// into a running broker, as a store written before an upgrade holds them:
// they are delivered, filtered and answered as before.
func TestJSONStoreStillDelivers(t *testing.T) {
	all, vip := newSink(t, nil), newSink(t, nil)
	dir := writeManifests(t,
		testTrigger{name: "all", typ: "test.full.v1", service: "all"}.manifest(),
		testTrigger{name: "vip", typ: "test.full.v1", attrs: map[string]string{"tier": "vip"}, service: "vip"}.manifest(),
	)
	b, _ := startBroker(t, Config{TriggersDir: dir, Services: map[string]string{"all": all.URL, "vip": vip.URL}})
	gold, plain := fullEvent(), newEvent("plain-1", "test.full.v1")
	for _, e := range []event.Event{gold, plain} {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg("events." + e.Type())
		msg.Data = data
		if _, err := b.store.publish(t.Context(), msg, dedupID(&e)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	waitFor(t, 5*time.Second, "deliveries", func() bool { return all.count() == 2 && vip.count() == 1 })
	got := vip.received()[0]
	sameStored(t, &got, &gold, true) // over HTTP, extensions are strings
}
