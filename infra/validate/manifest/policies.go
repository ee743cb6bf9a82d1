package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	eventingv1alpha1 "knative.dev/eventing/pkg/apis/eventing/v1alpha1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// sender is an identity EventPolicies name: an object of the render
// (Kind and Name), or an OIDC subject (Kind "sub").
type sender struct{ APIVersion, Kind, Name string }

func (s sender) String() string { return s.Kind + " " + s.Name }

// CheckPolicies proves the broker's EventPolicies admit exactly what the
// chain sends into it: the events a function emits from the identity that
// sends them (captcha's from its SinkBinding, a reply from the Trigger
// that delivered to the function, a tick from its PingSource), and nothing
// else, so claim.requested comes from captcha alone (and from admin, which
// redrives dead letters as they were signed). Every sender a policy
// names exists, and none is named twice (the broker reads the filters of
// the first policy that names a sender, and no other).
func (s Set) CheckPolicies(f Facts) error {
	admitted, errs := s.admitted()
	needed := s.needed(f)
	for _, snd := range sortedSenders(needed) {
		for _, typ := range sortedKeys(needed[snd]) {
			if !admitted[snd][typ] {
				errs = append(errs, fmt.Errorf("%s sends %s into the broker, but no EventPolicy admits it from there", snd, typ))
			}
		}
	}
	for _, snd := range sortedSenders(admitted) {
		for _, typ := range sortedKeys(admitted[snd]) {
			if !needed[snd][typ] {
				errs = append(errs, fmt.Errorf("an EventPolicy admits %s from %s, which never sends it", typ, snd))
			}
		}
	}
	return errors.Join(errs...)
}

// admitted is, per sender, the types the policies on the broker let in.
func (s Set) admitted() (map[sender]map[string]bool, []error) {
	out := make(map[sender]map[string]bool)
	namedBy := make(map[sender]Ref)
	var errs []error
	Each(s, func(r Ref, p *eventingv1alpha1.EventPolicy) {
		if !s.onBroker(r, p, &errs) {
			return
		}
		types, err := admittedTypes(r, p.Spec.Filters)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, snd := range s.senders(r, p, &errs) {
			if first, twice := namedBy[snd]; twice {
				errs = append(errs, fmt.Errorf("%s: %s is already named by %s: the broker reads only the first", r, snd, first))
				continue
			}
			namedBy[snd] = r
			out[snd] = types
		}
	})
	return out, errs
}

// onBroker tells whether a policy applies to a Broker of the render (an
// empty spec.to applies to every object of the namespace).
func (s Set) onBroker(r Ref, p *eventingv1alpha1.EventPolicy, errs *[]error) bool {
	if len(p.Spec.To) == 0 {
		return true
	}
	on := false
	for i, to := range p.Spec.To {
		if to.Ref == nil || to.Ref.Kind != "Broker" {
			continue
		}
		if err := s.checkBroker(r, to.Ref.Name); err != nil {
			*errs = append(*errs, fmt.Errorf("spec.to[%d]: %w", i, err))
			continue
		}
		on = true
	}
	return on
}

// senders are the identities a policy admits; each referenced object must
// be in the render.
func (s Set) senders(r Ref, p *eventingv1alpha1.EventPolicy, errs *[]error) []sender {
	var out []sender
	for i, from := range p.Spec.From {
		switch {
		case from.Ref != nil:
			snd := sender{APIVersion: from.Ref.APIVersion, Kind: from.Ref.Kind, Name: from.Ref.Name}
			if !s.has(snd) {
				*errs = append(*errs, fmt.Errorf("%s: spec.from[%d]: %s does not exist in the render", r, i, snd))
				continue
			}
			out = append(out, snd)
		case from.Sub != nil:
			out = append(out, sender{Kind: "sub", Name: *from.Sub})
		}
	}
	return out
}

func (s Set) has(snd sender) bool {
	for _, o := range s.Objects {
		if o.APIVersion == snd.APIVersion && o.Kind == snd.Kind && o.Name == snd.Name {
			return true
		}
	}
	return false
}

// needed is, per sender, the types the chain sends into the broker.
func (s Set) needed(f Facts) map[sender]map[string]bool {
	out := make(map[sender]map[string]bool)
	add := func(snd sender, types ...string) {
		if len(types) == 0 {
			return
		}
		if out[snd] == nil {
			out[snd] = make(map[string]bool)
		}
		for _, t := range types {
			out[snd][t] = true
		}
	}
	Each(s, func(r Ref, b *sourcesv1.SinkBinding) {
		if sub := b.Spec.Subject; sub.APIVersion == servingv1.SchemeGroupVersion.String() && sub.Kind == "Service" {
			add(senderOf(r), f.Emitters[sub.Name]...)
		}
	})
	Each(s, func(r Ref, t *eventingv1.Trigger) {
		if ref := t.Spec.Subscriber.Ref; ref != nil {
			add(senderOf(r), f.Emitters[ref.Name]...)
		}
	})
	Each(s, func(r Ref, _ *sourcesv1.PingSource) { add(senderOf(r), KnownPing) })
	return out
}

func senderOf(r Ref) sender { return sender{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name} }

// admittedTypes reads a policy's filters, which must all match: the types
// they let through. The validator reads type filters only (exact, or any
// of exact ones); a policy without filters would admit every type, which
// is more than any sender of the chain sends.
func admittedTypes(r Ref, filters []eventingv1.SubscriptionsAPIFilter) (map[string]bool, error) {
	if len(filters) == 0 {
		return nil, fmt.Errorf("%s: spec.filters is empty: it would admit every event type from its senders", r)
	}
	var out map[string]bool
	for i, f := range filters {
		types, err := filterTypes(f)
		if err != nil {
			return nil, fmt.Errorf("%s: spec.filters[%d]: %w", r, i, err)
		}
		if out == nil {
			out = types
			continue
		}
		maps.DeleteFunc(out, func(t string, _ bool) bool { return !types[t] })
	}
	return out, nil
}

// filterTypes is what an exact type filter, or an any of them, lets through.
func filterTypes(f eventingv1.SubscriptionsAPIFilter) (map[string]bool, error) {
	rest := f
	rest.Exact, rest.Any = nil, nil
	if !isEmpty(rest) || (f.Exact != nil) == (f.Any != nil) {
		return nil, errors.New("the validator reads only {exact: {type: …}} and {any: [exact type filters]}")
	}
	if f.Exact != nil {
		if len(f.Exact) != 1 || f.Exact["type"] == "" {
			return nil, errors.New("an exact filter must name the type and nothing else")
		}
		return map[string]bool{f.Exact["type"]: true}, nil
	}
	out := make(map[string]bool)
	for _, sub := range f.Any {
		types, err := filterTypes(sub)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, types)
	}
	return out, nil
}

func isEmpty(f eventingv1.SubscriptionsAPIFilter) bool {
	return f.All == nil && f.Any == nil && f.Not == nil && f.Exact == nil && f.Prefix == nil && f.Suffix == nil && f.CESQL == ""
}

func sortedSenders[V any](m map[sender]V) []sender {
	return slices.SortedFunc(maps.Keys(m), func(a, b sender) int { return cmp.Compare(a.String(), b.String()) })
}
