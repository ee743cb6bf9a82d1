package manifest_test

import (
	"strings"
	"testing"

	"github.com/surgekit/surge/local/gateway"
)

// route is an HTTPRoute with one rule per (method, type, value, host).
func route(rules ...[4]string) string {
	var b strings.Builder
	b.WriteString("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: api\nspec:\n  rules:\n")
	for _, r := range rules {
		b.WriteString("    - matches:\n        - path: {type: " + r[1] + ", value: \"" + r[2] + "\"}\n")
		if r[0] != "" {
			b.WriteString("          method: " + r[0] + "\n")
		}
		b.WriteString("      backendRefs: [{name: " + r[3] + ", port: 80}]\n")
	}
	return b.String()
}

// TestRoutePrecedence: the longest Exact match wins over a PathPrefix, a
// PathPrefix over a RegularExpression, and a method match breaks ties.
func TestRoutePrecedence(t *testing.T) {
	tests := []struct {
		name   string
		routes []gateway.Route
		rules  [][4]string
		want   string // "" for valid, else part of the error
	}{
		{"exact beats prefix", []gateway.Route{gr("GET", "/v1/keys", "query"), gr("GET", "/v1/orders", "admin")},
			[][4]string{{"", "PathPrefix", "/v1", "admin"}, {"GET", "Exact", "/v1/keys", "query"}}, ""},
		{"prefix is per segment", []gateway.Route{gr("GET", "/v1/keysx", "query")},
			[][4]string{{"", "PathPrefix", "/v1/keys", "query"}}, "no HTTPRoute rule matches it"},
		{"prefix beats regex", []gateway.Route{gr("GET", "/v1/claims/{id}", "query")},
			[][4]string{{"", "RegularExpression", "/v1/claims/[^/]+", "admin"}, {"", "PathPrefix", "/v1/claims", "query"}},
			"HTTPRoute surge/api rule 1 (", // the regex rule then serves nothing
		},
		{"method breaks ties", []gateway.Route{gr("POST", "/v1/campaigns", "admin"), gr("GET", "/v1/campaigns", "query")},
			[][4]string{{"", "Exact", "/v1/campaigns", "query"}, {"POST", "Exact", "/v1/campaigns", "admin"}}, ""},
		{"regex is anchored", []gateway.Route{gr("GET", "/v1/campaigns/{id}/stock", "admin")},
			[][4]string{{"GET", "RegularExpression", "/v1/campaigns/[^/]+", "admin"}}, "no HTTPRoute rule matches it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, f := tree(t), facts(t)
			writeFile(t, fsys, "base/httproute.yaml", route(tt.rules...))
			f.Routes = tt.routes
			_, err := validate(t, fsys, f, "base")
			routeErr := ""
			if err != nil {
				routeErr = err.Error()
				t.Logf("Validate error:\n%s", routeErr)
			}
			switch {
			case tt.want == "" && routeErr != "":
				t.Errorf("Validate: %s", routeErr)
			case tt.want != "" && !strings.Contains(routeErr, tt.want):
				t.Errorf("Validate error %q does not say %q", routeErr, tt.want)
			}
		})
	}
}

func gr(method, path, service string) gateway.Route {
	return gateway.Route{Method: method, Path: path, Service: service}
}
