package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/infra/validate/manifest"
	"github.com/surgekit/surge/local/gateway"
)

func TestTargetsAreValid(t *testing.T) {
	fsys, f := tree(t), facts(t)
	for _, tg := range manifest.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			n, err := manifest.Validate(t.Context(), fsys, f, tg)
			if err != nil {
				t.Fatalf("Validate(%s):\n%v", tg.Dir, err)
			}
			if n == 0 {
				t.Errorf("Validate(%s) = 0 objects, want some", tg.Dir)
			}
		})
	}
}

// trigger is a Trigger document for the negative tests; the verbs fill in
// the subscriber field name, the subscriber, the backoff delay and the type.
const trigger = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: probe
spec:
  broker: surge
  filter:
    attributes:
      type: %s
  subscriber:
    %s:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: %s
  delivery:
    retry: 8
    backoffPolicy: exponential
    backoffDelay: %s
    timeout: PT10S
    deadLetterSink:
      ref:
        apiVersion: serving.knative.dev/v1
        kind: Service
        name: reconcile
      uri: /dead-letters
`

func TestValidatorCatches(t *testing.T) {
	requested := events.TypeClaimRequested
	tests := []struct {
		name  string
		doc   string                // appended to triggers.yaml, "" for none
		edit  [3]string             // file, old, new: a replacement in the tree
		facts func(*manifest.Facts) // changes the code side, nil for none
		want  []string              // every one must be in the error
	}{
		{name: "misspelled field", doc: fmt.Sprintf(trigger, requested, "reff", "prededuct", "PT0.2S"),
			want: []string{"Trigger surge/probe", "strict decode", `unknown field "spec.subscriber.reff"`}},
		{name: "backoffDelay not ISO-8601", doc: fmt.Sprintf(trigger, requested, "ref", "prededuct", "0.2s"),
			want: []string{"Trigger surge/probe", "knative validation", "invalid value: 0.2s", "spec.delivery.backoffDelay"}},
		{name: "subscriber missing", doc: fmt.Sprintf(trigger, requested, "ref", "prededuc", "PT0.2S"),
			want: []string{"Trigger surge/probe", `spec.subscriber: Service "prededuc" does not exist in the render`}},
		{name: "type not in events", doc: fmt.Sprintf(trigger, "dev.surgekit.claim.requested.v2", "ref", "prededuct", "PT0.2S"),
			want: []string{"Trigger surge/probe", `"dev.surgekit.claim.requested.v2" is not an event type of package events`}},
		{name: "unknown kind", doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stray\n",
			want: []string{"Pod surge/stray: unknown kind v1 Pod"}},
		{name: "overlay deletes a base object", doc: "", edit: [3]string{"overlays/kind/kustomization.yaml", "patches:\n",
			"patches:\n  - patch: |-\n      $patch: delete\n      apiVersion: sources.knative.dev/v1\n      kind: SinkBinding\n      metadata:\n        name: captcha-publishes\n"},
			want: []string{"SinkBinding surge/captcha-publishes of the base is missing from the overlay"}},
		{name: "sink binding left out", edit: [3]string{"base/kustomization.yaml", "  - sinkbinding.yaml\n", ""},
			want: []string{"Service surge/captcha: K_SINK is read by functions/captcha but no env, envFrom key or SinkBinding provides it"}},
		{name: "policies left out", edit: [3]string{"base/kustomization.yaml", "  - eventpolicy.yaml\n", ""},
			want: []string{"SinkBinding captcha-publishes sends dev.surgekit.claim.requested.v1 into the broker, but no EventPolicy admits it from there",
				"Trigger prededuct sends dev.surgekit.claim.reserved.v1 into the broker"}},
		{name: "claim.requested admitted from another sender", edit: [3]string{"base/eventpolicy.yaml",
			"        type: dev.surgekit.reconcile.reported.v1\n", "        type: dev.surgekit.claim.requested.v1\n"},
			want: []string{"an EventPolicy admits dev.surgekit.claim.requested.v1 from Trigger reconcile, which never sends it",
				"Trigger reconcile sends dev.surgekit.reconcile.reported.v1 into the broker, but no EventPolicy admits it from there"}},
		{name: "policy without filters", edit: [3]string{"base/eventpolicy.yaml",
			"        name: captcha-publishes\n  filters:\n    - exact:\n        type: dev.surgekit.claim.requested.v1\n", "        name: captcha-publishes\n"},
			want: []string{"EventPolicy surge/claims-from-captcha: spec.filters is empty"}},
		{name: "sender named twice", edit: [3]string{"base/eventpolicy.yaml", "        kind: PingSource\n        name: reconcile-tick\n",
			"        kind: PingSource\n        name: reconcile-tick\n    - ref:\n        apiVersion: sources.knative.dev/v1\n        kind: SinkBinding\n        name: captcha-publishes\n"},
			want: []string{"SinkBinding captcha-publishes is already named by EventPolicy surge/claims-from-captcha"}},
		{name: "sender missing", edit: [3]string{"base/eventpolicy.yaml", "        name: reconcile-tick\n", "        name: reconcile-tock\n"},
			want: []string{"EventPolicy surge/ticks-from-pingsource: spec.from[0]: PingSource reconcile-tock does not exist in the render"}},
		{name: "emitted type without trigger", facts: func(f *manifest.Facts) {
			f.Emitters["settle"] = append(f.Emitters["settle"], "dev.surgekit.order.refunded.v1")
		},
			want: []string{"function settle emits dev.surgekit.order.refunded.v1: no Trigger filters on it"}},
		{name: "variable not provided", facts: func(f *manifest.Facts) { f.Env["settle"] = append(f.Env["settle"], "SURGE_NOPE") },
			want: []string{"Service surge/settle: SURGE_NOPE is read by functions/settle"}},
		{name: "service not scraped", edit: [3]string{"base/services.yaml", "        prometheus.io/scrape: \"true\"\n", ""},
			want: []string{`Service surge/captcha: spec.template.metadata.annotations has no prometheus.io/scrape (want "true")`}},
		{name: "scrape port not the serving port", edit: [3]string{"base/services.yaml", `prometheus.io/port: "8080"`, `prometheus.io/port: "9091"`},
			want: []string{`Service surge/captcha: spec.template.metadata.annotations prometheus.io/port is "9091"; want "8080"`}},
		{name: "scrape path not the runtime's", edit: [3]string{"base/services.yaml", "prometheus.io/path: /metrics", "prometheus.io/path: /stats"},
			want: []string{`Service surge/captcha: spec.template.metadata.annotations prometheus.io/path is "/stats"; want "/metrics"`}},
		{name: "scrape port not the declared port", edit: [3]string{"base/services.yaml", "          image: ko://github.com/surgekit/surge/functions/captcha\n",
			"          image: ko://github.com/surgekit/surge/functions/captcha\n          ports:\n            - name: http1\n              containerPort: 9000\n"},
			want: []string{`Service surge/captcha: spec.template.metadata.annotations prometheus.io/port is "8080"; want "9000"`}},
		{name: "route not routed", facts: func(f *manifest.Facts) {
			f.Routes = append(f.Routes, gateway.Route{Method: "GET", Path: "/v1/wallet/statements", Service: "query"})
		}, want: []string{"route GET /v1/wallet/statements (query): no HTTPRoute rule matches it"}},
		{name: "route to another function", facts: func(f *manifest.Facts) { f.Routes[0].Service = "captcha" },
			want: []string{"route POST /v1/campaigns: HTTPRoute surge/surge-api rule 1 sends it to admin, the local gateway to captcha"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, f := tree(t), facts(t)
			if tt.doc != "" {
				appendDoc(t, fsys, "base/triggers.yaml", tt.doc)
			}
			if tt.edit[0] != "" {
				replace(t, fsys, tt.edit)
			}
			if tt.facts != nil {
				tt.facts(&f)
			}
			_, err := validate(t, fsys, f, targetOf(tt.edit[0]))
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			t.Logf("Validate error:\n%v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// targetOf is the kustomization an edited file belongs to.
func targetOf(file string) string {
	if strings.HasPrefix(file, "overlays/") {
		return strings.Split(file, "/")[1]
	}
	return "base"
}
