package manifest

import (
	"errors"
	"fmt"
	"strconv"

	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// The annotations Prometheus' kubernetes-pods discovery reads from a pod.
// Knative copies a revision template's annotations onto its pods.
const (
	scrapeAnnotation = "prometheus.io/scrape"
	portAnnotation   = "prometheus.io/port"
	pathAnnotation   = "prometheus.io/path"
)

// metricsPath is where every function serves its metrics (shared/fn).
const metricsPath = "/metrics"

// CheckScrape proves every Knative Service declares its metrics for
// scraping on its revision template: prometheus.io/scrape "true", the
// port its container serves on (the one it declares, else Knative's
// default PORT) and the path the runtime serves them on.
func (s Set) CheckScrape() error {
	var errs []error
	Each(s, func(r Ref, svc *servingv1.Service) {
		errs = append(errs, checkScrape(r, svc))
	})
	return errors.Join(errs...)
}

func checkScrape(r Ref, svc *servingv1.Service) error {
	want := []struct{ key, value string }{
		{scrapeAnnotation, "true"},
		{portAnnotation, strconv.Itoa(int(servingPort(svc)))},
		{pathAnnotation, metricsPath},
	}
	var errs []error
	for _, w := range want {
		got, ok := svc.Spec.Template.Annotations[w.key]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: spec.template.metadata.annotations has no %s (want %q): Prometheus would not scrape its metrics", r, w.key, w.value))
		case got != w.value:
			errs = append(errs, fmt.Errorf("%s: spec.template.metadata.annotations %s is %q; want %q", r, w.key, got, w.value))
		}
	}
	return errors.Join(errs...)
}

// servingPort is the port the Service's container serves on: the one port
// Knative lets a container declare, else the PORT Knative injects by
// default.
func servingPort(svc *servingv1.Service) int32 {
	for _, c := range svc.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			return p.ContainerPort
		}
	}
	return servingv1.DefaultUserPort
}
