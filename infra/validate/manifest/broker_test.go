package manifest_test

import (
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/surgekit/surge/infra/validate/manifest"
	"github.com/surgekit/surge/local/broker"
	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	duckv1 "knative.dev/pkg/apis/duck/v1"
)

// TestLocalBrokerRoutesAsTheCluster proves make up routes events with the
// very Triggers a cluster gets: what local/broker reads from infra/knative
// equals the Triggers of the rendered base (name, broker, filter,
// subscriber, delivery), as written, before any defaulting.
func TestLocalBrokerRoutesAsTheCluster(t *testing.T) {
	local, err := broker.LoadTriggers(filepath.Join(repo, "infra", "knative", "base"))
	if err != nil {
		t.Fatal(err)
	}
	var rendered []broker.Trigger
	for _, tr := range renderedBase[*eventingv1.Trigger](t) {
		rendered = append(rendered, asLocal(tr))
	}
	sort.Slice(local, func(i, j int) bool { return local[i].Name < local[j].Name })
	sort.Slice(rendered, func(i, j int) bool { return rendered[i].Name < rendered[j].Name })
	if len(rendered) == 0 {
		t.Fatal("the rendered base has no Trigger")
	}
	if !reflect.DeepEqual(local, rendered) {
		t.Errorf("local broker triggers != rendered base triggers\nlocal:    %+v\nrendered: %+v", local, rendered)
	}
}

// TestLocalBrokerPingsAsTheCluster: the same for the PingSources that
// drive reconcile (the namespace is the overlay's, so it is left out).
func TestLocalBrokerPingsAsTheCluster(t *testing.T) {
	local, err := broker.LoadPingSources(filepath.Join(repo, "infra", "knative", "base"))
	if err != nil {
		t.Fatal(err)
	}
	var rendered []broker.PingSource
	for _, p := range renderedBase[*sourcesv1.PingSource](t) {
		ps := broker.PingSource{Name: p.Name, Schedule: p.Spec.Schedule,
			ContentType: p.Spec.ContentType, Data: p.Spec.Data, Sink: destination(p.Spec.Sink)}
		if o := p.Spec.CloudEventOverrides; o != nil {
			ps.Extensions = o.Extensions
		}
		rendered = append(rendered, ps)
	}
	for i := range local {
		local[i].Namespace = ""
	}
	if len(rendered) == 0 || !reflect.DeepEqual(local, rendered) {
		t.Errorf("local broker pings != rendered base pings\nlocal:    %+v\nrendered: %+v", local, rendered)
	}
}

// renderedBase decodes the base's objects of type T, as written.
func renderedBase[T any](t *testing.T) []T {
	t.Helper()
	raws, err := manifest.Render(tree(t), "base")
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, raw := range raws {
		o, err := manifest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := o.Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// asLocal is the local broker's view of a Knative Trigger.
func asLocal(tr *eventingv1.Trigger) broker.Trigger {
	out := broker.Trigger{Name: tr.Name, Broker: tr.Spec.Broker, Subscriber: destination(tr.Spec.Subscriber)}
	if tr.Spec.Filter != nil {
		out.Filter = tr.Spec.Filter.Attributes
	}
	if d := tr.Spec.Delivery; d != nil {
		out.Delivery = delivery(d)
	}
	return out
}

func delivery(d *eventingduckv1.DeliverySpec) broker.Delivery {
	out := broker.Delivery{Retry: d.Retry}
	out.BackoffPolicy = string(deref(d.BackoffPolicy))
	out.BackoffDelay, out.Timeout = deref(d.BackoffDelay), deref(d.Timeout)
	if d.DeadLetterSink != nil {
		dls := destination(*d.DeadLetterSink)
		out.DeadLetterSink = &dls
	}
	return out
}

func destination(d duckv1.Destination) broker.Destination {
	var out broker.Destination
	if d.Ref != nil {
		out.Ref = &broker.Reference{APIVersion: d.Ref.APIVersion, Kind: d.Ref.Kind, Name: d.Ref.Name, Namespace: d.Ref.Namespace}
	}
	if d.URI != nil {
		out.URI = d.URI.String()
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
