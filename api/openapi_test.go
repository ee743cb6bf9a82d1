package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/surgekit/surge/api"
	"github.com/surgekit/surge/local/gateway"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// described reports whether a gateway route belongs in the document: the
// API v1. Pages the gateway serves (a storefront, a dashboard) are not
// API calls.
func described(r gateway.Route) bool { return strings.HasPrefix(r.Path, "/v1/") }

// TestRoutesDescribed: the document describes exactly the gateway's API
// routes, each served by the function its x-surge-service names.
func TestRoutesDescribed(t *testing.T) {
	doc := load(t)
	inDoc := map[api.Operation]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			service, _ := op.Extensions["x-surge-service"].(string)
			inDoc[api.Operation{Method: method, Path: api.Shape(path)}] = service
		}
	}
	routed := map[api.Operation]bool{}
	for _, r := range gateway.Routes() {
		if !described(r) {
			continue
		}
		op := api.Operation{Method: r.Method, Path: api.Shape(r.Path)}
		routed[op] = true
		service, ok := inDoc[op]
		switch {
		case !ok:
			t.Errorf("the gateway routes %s %s (%s), which api/openapi.yaml does not describe: add it there, with its parameters, bodies and every status it answers",
				r.Method, r.Path, r.Service)
		case service != r.Service:
			t.Errorf("api/openapi.yaml: %s %s has x-surge-service %q; the gateway sends it to %q", r.Method, r.Path, service, r.Service)
		}
	}
	for op := range inDoc {
		if !routed[op] {
			t.Errorf("api/openapi.yaml describes %v, which the gateway does not route (local/gateway.Routes)", op)
		}
	}
}

// TestEveryAnswerDescribed: every operation lists its statuses one by one
// (no default, which would let any status through), each with a JSON
// schema but a 304; every error names its codes; and every call lists
// 500 and 503, which any of them can answer.
func TestEveryAnswerDescribed(t *testing.T) {
	doc := load(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Responses.Default() != nil {
				t.Errorf("%s: a default response lets any status pass", name)
			}
			for _, status := range []int{500, 503} {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s: no %d", name, status)
				}
			}
			for code, ref := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s: response %q is not one status", name, code)
					continue
				}
				media := ref.Value.Content.Get("application/json")
				switch {
				case status == http.StatusNotModified:
					if media != nil {
						t.Errorf("%s: a 304 has no body", name)
					}
				case media == nil || media.Schema == nil:
					t.Errorf("%s: %d has no application/json schema", name, status)
				case status >= 400 && len(errorCodes(media.Schema)) == 0:
					t.Errorf("%s: %d does not list its error codes", name, status)
				}
			}
		}
	}
}

// errorCodes is the enum of error.code an error schema (allOf Error and
// the codes) allows.
func errorCodes(s *openapi3.SchemaRef) []string {
	var out []string
	for _, part := range s.Value.AllOf {
		e := part.Value.Properties["error"]
		if e == nil || e.Value.Properties["code"] == nil {
			continue
		}
		for _, v := range e.Value.Properties["code"].Value.Enum {
			out = append(out, v.(string))
		}
	}
	return out
}

// TestValidatorRefuses: the validator the engine test uses fails on each
// way an answer can drift from the document, and passes the answer the
// document describes.
func TestValidatorRefuses(t *testing.T) {
	v, err := api.NewValidator(load(t), "http://gateway.test")
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	retry := http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}, "Retry-After-Ms": {"1000"}}
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"as described", "POST", "/v1/campaigns/c1/claims", 202, json, `{"claim_id":"c1.r1","status_url":"/v1/claims/c1.r1"}`, true},
		{"an error as described", "POST", "/v1/campaigns/c1/claims", 409, json, `{"error":{"code":"sold_out","message":"sold out"}}`, true},
		{"a 503 as described", "POST", "/v1/campaigns/c1/claims", 503, retry, `{"error":{"code":"overloaded","message":"busy"}}`, true},
		{"undocumented status", "POST", "/v1/campaigns/c1/claims", 418, json, `{"error":{"code":"teapot","message":"x"}}`, false},
		{"undocumented status of a route", "GET", "/v1/keys", 404, json, `{"error":{"code":"not_found","message":"x"}}`, false},
		{"missing field", "POST", "/v1/campaigns/c1/claims", 202, json, `{"claim_id":"c1.r1"}`, false},
		{"unknown field", "POST", "/v1/campaigns/c1/claims", 202, json, `{"claim_id":"c1.r1","status_url":"/v1/claims/c1.r1","x":1}`, false},
		{"wrong type", "GET", "/v1/wallet", 200, json, `{"settled":"1","pending":0,"withdrawn":0,"balance":0,"entries":[]}`, false},
		{"error code the status does not list", "POST", "/v1/campaigns/c1/claims", 409, json, `{"error":{"code":"campaign_exists","message":"x"}}`, false},
		{"error of another shape", "POST", "/v1/campaigns/c1/claims", 400, json, `{"code":"missing_sku"}`, false},
		{"503 without Retry-After", "POST", "/v1/campaigns/c1/claims", 503, json, `{"error":{"code":"overloaded","message":"busy"}}`, false},
		{"not JSON", "GET", "/v1/keys", 200, http.Header{"Content-Type": {"text/plain"}}, `keys`, false},
		{"304 the route does not list", "GET", "/v1/keys", 304, http.Header{}, ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://gateway.test"+tt.path, nil)
			_, err := v.Response(context.Background(), r, tt.status, tt.header, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("Response(%d %s) = %v; want ok %v", tt.status, tt.body, err, tt.ok)
			}
		})
	}
	r := httptest.NewRequest("DELETE", "http://gateway.test/v1/keys", nil)
	if _, err := v.Response(context.Background(), r, 404, json, []byte(`{"error":{"code":"not_found","message":"x"}}`)); err == nil {
		t.Error("an operation the document does not have was validated")
	}
	if !slices.Contains(errorCodes(schemaOf(t, "POST", "/v1/campaigns/{id}/claims", 409)), "idempotency_key_reused") {
		t.Error("errorCodes misses a listed code")
	}
}

// schemaOf is the JSON schema of one response of the document.
func schemaOf(t *testing.T, method, path string, status int) *openapi3.SchemaRef {
	t.Helper()
	item := load(t).Paths.Find(path)
	return item.GetOperation(method).Responses.Status(status).Value.Content.Get("application/json").Schema
}
