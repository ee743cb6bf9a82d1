package broker

import (
	"fmt"
	"strings"
)

// Trigger is an eventing.knative.dev/v1 Trigger as written in the manifests.
type Trigger struct {
	Name       string            `json:"name"`
	Broker     string            `json:"broker"`
	Filter     map[string]string `json:"filter,omitempty"` // spec.filter.attributes
	Subscriber Destination       `json:"subscriber"`
	Delivery   Delivery          `json:"delivery"`
}

// Destination is a Knative duckv1.Destination: a ref, a URI, or a ref plus a
// relative URI appended to the ref's address.
type Destination struct {
	Ref *Reference `json:"ref,omitempty"`
	URI string     `json:"uri,omitempty"`
}

// Reference is a Knative KReference.
type Reference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// Delivery is a Knative DeliverySpec. Durations are ISO-8601 (PT0.2S).
type Delivery struct {
	Retry          *int32       `json:"retry,omitempty"`
	BackoffPolicy  string       `json:"backoffPolicy,omitempty"`
	BackoffDelay   string       `json:"backoffDelay,omitempty"`
	Timeout        string       `json:"timeout,omitempty"`
	DeadLetterSink *Destination `json:"deadLetterSink,omitempty"`
}

type triggerSpec struct {
	Spec struct {
		Broker string `json:"broker"`
		Filter *struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"filter,omitempty"`
		Subscriber Destination `json:"subscriber"`
		Delivery   *Delivery   `json:"delivery,omitempty"`
	} `json:"spec"`
}

// LoadTriggers returns the Trigger objects of the manifests in dir (see
// loadObjects for which files are read). Other kinds are ignored.
func LoadTriggers(dir string) ([]Trigger, error) {
	objs, err := loadObjects(dir)
	if err != nil {
		return nil, err
	}
	var ts []Trigger
	for _, o := range objs {
		if o.Kind != "Trigger" || !strings.HasPrefix(o.APIVersion, "eventing.knative.dev/") {
			continue
		}
		t, err := decodeTrigger(o)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func decodeTrigger(o object) (Trigger, error) {
	var s triggerSpec
	if err := o.decodeAs(&s); err != nil {
		return Trigger{}, err
	}
	t := Trigger{Name: o.Metadata.Name, Broker: s.Spec.Broker, Subscriber: s.Spec.Subscriber}
	if s.Spec.Filter != nil {
		t.Filter = s.Spec.Filter.Attributes
	}
	if s.Spec.Delivery != nil {
		t.Delivery = *s.Spec.Delivery
	}
	if t.Name == "" || t.Broker == "" {
		return Trigger{}, fmt.Errorf("trigger in %s: metadata.name and spec.broker are required", o.file)
	}
	return t, nil
}
