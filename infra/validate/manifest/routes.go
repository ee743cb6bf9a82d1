package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/surgekit/surge/local/gateway"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// rule is one HTTPRoute match with the function it reaches.
type rule struct {
	where    string // "HTTPRoute surge-api rule 3"
	method   string // "" matches any
	kind     gatewayv1.PathMatchType
	value    string
	re       *regexp.Regexp // RegularExpression, anchored
	function string
	used     bool
}

// CheckRoutes proves the cluster routes the public API as the local
// gateway does: each gateway.Routes() entry, sent as a request with its
// {params} filled in, is won by a rule that reaches the same function, and
// every rule wins at least one entry. Precedence follows Gateway API: the
// longest Exact path, then the longest PathPrefix, then (implementation-
// specific, ranked last here) RegularExpression, then a method match.
func (s Set) CheckRoutes(f Facts) error {
	rules, err := s.routeRules()
	if len(rules) == 0 && err == nil {
		return errors.New("no HTTPRoute in the render: the public API is not routed")
	}
	errs := []error{err}
	for _, r := range f.Routes {
		errs = append(errs, checkRoute(r, rules))
	}
	for _, ru := range rules {
		if !ru.used {
			errs = append(errs, fmt.Errorf("%s (%s %s %q) serves no route of gateway.Routes()", ru.where, ru.method, ru.kind, ru.value))
		}
	}
	return errors.Join(errs...)
}

func checkRoute(r gateway.Route, rules []*rule) error {
	path := samplePath(r.Path)
	var best *rule
	for _, ru := range rules {
		if ru.matches(r.Method, path) && (best == nil || ru.beats(best)) {
			best = ru
		}
	}
	switch {
	case best == nil:
		return fmt.Errorf("route %s %s (%s): no HTTPRoute rule matches it", r.Method, r.Path, r.Service)
	case best.function != r.Service:
		return fmt.Errorf("route %s %s: %s sends it to %s, the local gateway to %s", r.Method, r.Path, best.where, best.function, r.Service)
	}
	best.used = true
	return nil
}

// param is a {name} segment of a ServeMux pattern.
var param = regexp.MustCompile(`\{[^}]*\}`)

// samplePath fills each {param} of a ServeMux pattern with a value.
func samplePath(pattern string) string {
	return param.ReplaceAllString(pattern, "p-1")
}

func (ru *rule) matches(method, path string) bool {
	if ru.method != "" && ru.method != method {
		return false
	}
	switch ru.kind {
	case gatewayv1.PathMatchExact:
		return path == ru.value
	case gatewayv1.PathMatchPathPrefix:
		p := strings.TrimSuffix(ru.value, "/")
		return path == p || strings.HasPrefix(path, p+"/")
	default:
		return ru.re != nil && ru.re.MatchString(path)
	}
}

func (ru *rule) beats(other *rule) bool {
	rank := map[gatewayv1.PathMatchType]int{gatewayv1.PathMatchExact: 3, gatewayv1.PathMatchPathPrefix: 2, gatewayv1.PathMatchRegularExpression: 1}
	if rank[ru.kind] != rank[other.kind] {
		return rank[ru.kind] > rank[other.kind]
	}
	if len(ru.value) != len(other.value) {
		return len(ru.value) > len(other.value)
	}
	return ru.method != "" && other.method == ""
}

// The Gateway API's bounds on an HTTPRoute (the CRD's maxItems on
// spec.rules and on a rule's matches, sigs.k8s.io/gateway-api v1.1.0): the
// API server refuses a route past them, and a strict decode does not see
// them.
const (
	maxRouteRules  = 16
	maxRuleMatches = 8
)

// routeRules flattens every HTTPRoute of the render into rules.
func (s Set) routeRules() ([]*rule, error) {
	services := All[*servingv1.Service](s)
	var rules []*rule
	var errs []error
	Each(s, func(ref Ref, hr *gatewayv1.HTTPRoute) {
		if n := len(hr.Spec.Rules); n > maxRouteRules {
			errs = append(errs, fmt.Errorf("%s: %d rules; the Gateway API admits %d to an HTTPRoute", ref, n, maxRouteRules))
		}
		for i, r := range hr.Spec.Rules {
			where := fmt.Sprintf("%s rule %d", ref, i+1)
			if n := len(r.Matches); n > maxRuleMatches {
				errs = append(errs, fmt.Errorf("%s: %d matches; the Gateway API admits %d to a rule", where, n, maxRuleMatches))
			}
			fn, err := ruleFunction(ref.Namespace, r)
			if err == nil && services[fn] == nil {
				err = fmt.Errorf("reaches %q, which is not a Knative Service of the render", fn)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			more, err := matchRules(where, fn, r.Matches)
			errs = append(errs, err)
			rules = append(rules, more...)
		}
	})
	return rules, errors.Join(errs...)
}

func matchRules(where, fn string, matches []gatewayv1.HTTPRouteMatch) ([]*rule, error) {
	if len(matches) == 0 {
		matches = []gatewayv1.HTTPRouteMatch{{}}
	}
	var out []*rule
	for _, m := range matches {
		ru := &rule{where: where, kind: gatewayv1.PathMatchPathPrefix, value: "/", function: fn}
		if m.Method != nil {
			ru.method = string(*m.Method)
		}
		if m.Path != nil && m.Path.Type != nil {
			ru.kind = *m.Path.Type
		}
		if m.Path != nil && m.Path.Value != nil {
			ru.value = *m.Path.Value
		}
		if err := ru.compile(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, ru)
	}
	return out, nil
}

// compile anchors a RegularExpression match: Envoy, Istio and Contour
// match the whole path (RE2).
func (ru *rule) compile() error {
	switch ru.kind {
	case gatewayv1.PathMatchExact, gatewayv1.PathMatchPathPrefix:
		return nil
	case gatewayv1.PathMatchRegularExpression:
		re, err := regexp.Compile(`^(?:` + ru.value + `)$`)
		ru.re = re
		return err
	}
	return fmt.Errorf("unknown path match type %q", ru.kind)
}

// ruleFunction is the Knative Service a rule reaches: the host a URLRewrite
// filter sets when the backend is the Knative ingress
// (<function>.<namespace>.svc.cluster.local), else the backendRef's name.
func ruleFunction(namespace string, r gatewayv1.HTTPRouteRule) (string, error) {
	for _, f := range r.Filters {
		if f.URLRewrite != nil && f.URLRewrite.Hostname != nil {
			return hostFunction(namespace, string(*f.URLRewrite.Hostname))
		}
	}
	if len(r.BackendRefs) != 1 {
		return "", fmt.Errorf("want one backendRef (or a URLRewrite hostname), got %d", len(r.BackendRefs))
	}
	return string(r.BackendRefs[0].Name), nil
}

func hostFunction(namespace, host string) (string, error) {
	fn, rest, _ := strings.Cut(host, ".")
	for _, suffix := range []string{namespace, namespace + ".svc", namespace + ".svc.cluster.local"} {
		if rest == suffix {
			return fn, nil
		}
	}
	return "", fmt.Errorf("URLRewrite hostname %q is not a Service of namespace %q (<name>.%s.svc.cluster.local)", host, namespace, namespace)
}
