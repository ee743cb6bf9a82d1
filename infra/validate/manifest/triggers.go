package manifest

import (
	"errors"
	"fmt"
	"sort"

	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// CheckTriggers proves the routing is whole: every Trigger names an
// existing Broker, a known event type and existing Services (subscriber
// and dead-letter sink), and every event type a function or PingSource
// emits is taken by a Trigger or is terminal.
func (s Set) CheckTriggers(f Facts) error {
	var errs []error
	Each(s, func(r Ref, t *eventingv1.Trigger) { errs = append(errs, s.checkTrigger(r, t)...) })
	errs = append(errs, s.checkEmitted(f)...)
	Each(s, func(r Ref, p *sourcesv1.PingSource) {
		errs = append(errs, s.checkBrokerSink(r, "spec.sink", p.Spec.Sink))
	})
	return errors.Join(errs...)
}

func (s Set) checkTrigger(r Ref, t *eventingv1.Trigger) []error {
	errs := []error{s.checkBroker(r, t.Spec.Broker), checkFilter(r, t.Spec.Filter),
		s.checkService(r, "spec.subscriber", t.Spec.Subscriber)}
	return append(errs, s.checkDelivery(r, t.Spec.Delivery))
}

func (s Set) checkBroker(r Ref, name string) error {
	if _, ok := All[*eventingv1.Broker](s)[name]; !ok {
		return fmt.Errorf("%s: spec.broker %q: no such Broker in the render", r, name)
	}
	return nil
}

func checkFilter(r Ref, f *eventingv1.TriggerFilter) error {
	if f == nil || f.Attributes["type"] == "" {
		return fmt.Errorf("%s: spec.filter.attributes.type is missing: a Trigger takes one event type", r)
	}
	if t := f.Attributes["type"]; !KnownTypes()[t] {
		return fmt.Errorf("%s: spec.filter.attributes.type %q is not an event type of package events", r, t)
	}
	return nil
}

func (s Set) checkDelivery(r Ref, d *eventingduckv1.DeliverySpec) error {
	if d == nil || d.Retry == nil || d.BackoffPolicy == nil || d.BackoffDelay == nil || d.Timeout == nil {
		return fmt.Errorf("%s: spec.delivery needs retry, backoffPolicy, backoffDelay and timeout", r)
	}
	if d.DeadLetterSink == nil {
		return fmt.Errorf("%s: spec.delivery.deadLetterSink is missing", r)
	}
	return s.checkService(r, "spec.delivery.deadLetterSink", *d.DeadLetterSink)
}

// checkService proves a destination is a ref to a Knative Service of the
// render.
func (s Set) checkService(r Ref, field string, d duckv1.Destination) error {
	ref := d.Ref
	if ref == nil || ref.APIVersion != servingv1.SchemeGroupVersion.String() || ref.Kind != "Service" {
		return fmt.Errorf("%s: %s must be a ref to a serving.knative.dev/v1 Service", r, field)
	}
	if _, ok := All[*servingv1.Service](s)[ref.Name]; !ok {
		return fmt.Errorf("%s: %s: Service %q does not exist in the render", r, field, ref.Name)
	}
	return nil
}

func (s Set) checkBrokerSink(r Ref, field string, d duckv1.Destination) error {
	if d.Ref == nil || d.Ref.Kind != "Broker" {
		return fmt.Errorf("%s: %s must be a ref to the Broker", r, field)
	}
	return s.checkBroker(r, d.Ref.Name)
}

// checkEmitted proves every emitted type reaches a Trigger or is terminal
// (CheckEnv proves every function is deployed).
func (s Set) checkEmitted(f Facts) []error {
	taken := s.takenTypes()
	for _, t := range f.Terminal {
		taken[t] = true
	}
	var errs []error
	for _, fn := range sortedKeys(f.Emitters) {
		for _, t := range f.Emitters[fn] {
			if !taken[t] {
				errs = append(errs, fmt.Errorf("function %s emits %s: no Trigger filters on it and events.Terminal() does not list it", fn, t))
			}
		}
	}
	if len(All[*sourcesv1.PingSource](s)) > 0 && !taken[KnownPing] {
		errs = append(errs, fmt.Errorf("a PingSource emits %s but no Trigger filters on it", KnownPing))
	}
	return errs
}

func (s Set) takenTypes() map[string]bool {
	taken := make(map[string]bool)
	Each(s, func(_ Ref, t *eventingv1.Trigger) {
		if t.Spec.Filter != nil {
			taken[t.Spec.Filter.Attributes["type"]] = true
		}
	})
	return taken
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
