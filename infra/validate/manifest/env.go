package manifest

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// sinkVar is what a SinkBinding injects into its subjects.
const sinkVar = "K_SINK"

// CheckEnv proves every variable a function reads is provided to its
// Knative Service: by env, by a key of a ConfigMap or Secret it takes with
// envFrom, or (K_SINK) by a SinkBinding whose sink is the Broker. Secrets
// created outside the render (production) are looked up in f.External.
func (s Set) CheckEnv(f Facts) error {
	services := All[*servingv1.Service](s)
	var errs []error
	for _, fn := range sortedKeys(f.Env) {
		svc, ok := services[fn]
		if !ok {
			errs = append(errs, fmt.Errorf("function %s has no Knative Service in the render", fn))
			continue
		}
		have, err := s.provided(svc, f.External)
		errs = append(errs, err)
		for _, name := range f.Env[fn] {
			if !have[name] {
				errs = append(errs, fmt.Errorf("%s: %s is read by functions/%s but no env, envFrom key or SinkBinding provides it", serviceRef(svc), name, fn))
			}
		}
	}
	Each(s, func(r Ref, b *sourcesv1.SinkBinding) {
		errs = append(errs, s.checkBrokerSink(r, "spec.sink", b.Spec.Sink))
	})
	return errors.Join(errs...)
}

// provided lists the variables the Service's containers get.
func (s Set) provided(svc *servingv1.Service, external map[string][]string) (map[string]bool, error) {
	have := make(map[string]bool)
	var errs []error
	for _, c := range svc.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			have[e.Name] = true
		}
		for _, from := range c.EnvFrom {
			keys, err := s.sourceKeys(from, external)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", serviceRef(svc), err))
			}
			for _, k := range keys {
				have[from.Prefix+k] = true
			}
		}
	}
	if s.sinkBound(svc) {
		have[sinkVar] = true
	}
	return have, errors.Join(errs...)
}

func (s Set) sourceKeys(from corev1.EnvFromSource, external map[string][]string) ([]string, error) {
	switch {
	case from.ConfigMapRef != nil:
		cm, ok := All[*corev1.ConfigMap](s)[from.ConfigMapRef.Name]
		if !ok {
			return nil, fmt.Errorf("envFrom ConfigMap %q is not in the render", from.ConfigMapRef.Name)
		}
		return append(sortedKeys(cm.Data), sortedKeys(cm.BinaryData)...), nil
	case from.SecretRef != nil:
		return s.secretKeys(from.SecretRef.Name, external)
	}
	return nil, nil
}

func (s Set) secretKeys(name string, external map[string][]string) ([]string, error) {
	if sec, ok := All[*corev1.Secret](s)[name]; ok {
		return append(sortedKeys(sec.Data), sortedKeys(sec.StringData)...), nil
	}
	if keys, ok := external[name]; ok {
		return keys, nil
	}
	return nil, fmt.Errorf("envFrom Secret %q is neither in the render nor declared external", name)
}

// sinkBound tells whether a SinkBinding's subject is the Service, by name
// or by label selector.
func (s Set) sinkBound(svc *servingv1.Service) bool {
	bound := false
	Each(s, func(_ Ref, b *sourcesv1.SinkBinding) {
		sub := b.Spec.Subject
		if sub.APIVersion != servingv1.SchemeGroupVersion.String() || sub.Kind != "Service" {
			return
		}
		bound = bound || sub.Name == svc.Name || selects(sub.Selector, svc.Labels)
	})
	return bound
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(labels.Set(set))
}

func serviceRef(svc *servingv1.Service) Ref {
	return Ref{APIVersion: servingv1.SchemeGroupVersion.String(), Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
}
