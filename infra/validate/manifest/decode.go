package manifest

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	eventingv1alpha1 "knative.dev/eventing/pkg/apis/eventing/v1alpha1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	kjson "sigs.k8s.io/json"
)

// Object is one rendered object decoded into its Go type (a pointer, such
// as *servingv1.Service).
type Object struct {
	Ref
	Value any
}

// goTypes maps apiVersion + kind to a constructor of its Go type. A kind not
// listed here is an error: the validator must know every object it passes.
var goTypes = map[string]func() any{
	"serving.knative.dev/v1 Service":                   func() any { return new(servingv1.Service) },
	"eventing.knative.dev/v1 Broker":                   func() any { return new(eventingv1.Broker) },
	"eventing.knative.dev/v1 Trigger":                  func() any { return new(eventingv1.Trigger) },
	"eventing.knative.dev/v1alpha1 EventPolicy":        func() any { return new(eventingv1alpha1.EventPolicy) },
	"sources.knative.dev/v1 PingSource":                func() any { return new(sourcesv1.PingSource) },
	"sources.knative.dev/v1 SinkBinding":               func() any { return new(sourcesv1.SinkBinding) },
	"gateway.networking.k8s.io/v1 HTTPRoute":           func() any { return new(gatewayv1.HTTPRoute) },
	"gateway.networking.k8s.io/v1 Gateway":             func() any { return new(gatewayv1.Gateway) },
	"gateway.networking.k8s.io/v1 GatewayClass":        func() any { return new(gatewayv1.GatewayClass) },
	"gateway.networking.k8s.io/v1beta1 ReferenceGrant": func() any { return new(gatewayv1beta1.ReferenceGrant) },
	"v1 ConfigMap":             func() any { return new(corev1.ConfigMap) },
	"v1 Secret":                func() any { return new(corev1.Secret) },
	"v1 Service":               func() any { return new(corev1.Service) },
	"v1 PersistentVolumeClaim": func() any { return new(corev1.PersistentVolumeClaim) },
	"v1 Namespace":             func() any { return new(corev1.Namespace) },
	"v1 ServiceAccount":        func() any { return new(corev1.ServiceAccount) },
	"apps/v1 Deployment":       func() any { return new(appsv1.Deployment) },
	"apps/v1 StatefulSet":      func() any { return new(appsv1.StatefulSet) },
	"batch/v1 Job":             func() any { return new(batchv1.Job) },
}

// Decode decodes raw strictly, the way the API server's strict field
// validation does: field names are case-sensitive, and an unknown or
// duplicated field is an error.
func Decode(raw Raw) (Object, error) {
	newValue, ok := goTypes[raw.APIVersion+" "+raw.Kind]
	if !ok {
		return Object{}, fmt.Errorf("%s: unknown kind %s %s (known: %s)", raw.Ref, raw.APIVersion, raw.Kind, knownKinds())
	}
	v := newValue()
	strict, err := kjson.UnmarshalStrict(raw.JSON, v, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err != nil {
		return Object{}, fmt.Errorf("%s: decode: %w", raw.Ref, err)
	}
	if len(strict) > 0 {
		return Object{}, fmt.Errorf("%s: strict decode: %w", raw.Ref, errors.Join(strict...))
	}
	return Object{Ref: raw.Ref, Value: v}, nil
}

func knownKinds() string {
	names := make([]string, 0, len(goTypes))
	for k := range goTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
