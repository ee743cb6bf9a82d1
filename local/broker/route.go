package broker

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// maxBackoff caps a retry delay however many attempts were made.
const maxBackoff = time.Hour

// route is a Trigger resolved for delivery: URLs known, durations parsed.
type route struct {
	name       string
	filter     map[string]string
	subscriber string
	deadLetter string // "" when there is no dead-letter sink
	attempts   uint64 // retry + 1
	expBackoff bool
	delay      time.Duration
	timeout    time.Duration
}

func newRoute(t Trigger, services map[string]string) (route, error) {
	r := route{name: t.Name, filter: t.Filter, attempts: 1, timeout: 10 * time.Second}
	var err error
	if r.subscriber, err = resolve(t.Subscriber, services); err != nil {
		return route{}, fmt.Errorf("trigger %s subscriber: %w", t.Name, err)
	}
	if err := r.applyDelivery(t.Delivery, services); err != nil {
		return route{}, fmt.Errorf("trigger %s delivery: %w", t.Name, err)
	}
	return r, nil
}

func (r *route) applyDelivery(d Delivery, services map[string]string) error {
	var err error
	if d.Retry != nil {
		if *d.Retry < 0 {
			return fmt.Errorf("retry %d is negative", *d.Retry)
		}
		r.attempts = uint64(*d.Retry) + 1
	}
	switch d.BackoffPolicy {
	case "", "exponential":
		r.expBackoff = true
	case "linear":
	default:
		return fmt.Errorf("backoffPolicy %q: want linear or exponential", d.BackoffPolicy)
	}
	if d.BackoffDelay != "" {
		if r.delay, err = parseISODuration(d.BackoffDelay); err != nil {
			return fmt.Errorf("backoffDelay: %w", err)
		}
	}
	if d.Timeout != "" {
		if r.timeout, err = parseISODuration(d.Timeout); err != nil || r.timeout <= 0 {
			return fmt.Errorf("timeout %q: must be a positive ISO-8601 duration", d.Timeout)
		}
	}
	if d.DeadLetterSink != nil {
		if r.deadLetter, err = resolve(*d.DeadLetterSink, services); err != nil {
			return fmt.Errorf("deadLetterSink: %w", err)
		}
	}
	return nil
}

// backoff is the delay before the attempt after attempt n (n >= 1):
// linear delay*n, exponential delay*2^(n-1), capped at maxBackoff.
func (r route) backoff(n uint64) time.Duration {
	if n < 1 {
		n = 1
	}
	if r.delay <= 0 {
		return 0
	}
	if !r.expBackoff {
		if n > uint64(maxBackoff/r.delay) {
			return maxBackoff
		}
		return r.delay * time.Duration(n)
	}
	d := r.delay
	for i := uint64(1); i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// resolve turns a Destination into a URL: a Service ref is looked up in
// services and a relative uri is appended as a path; an absolute uri alone
// is used as is.
func resolve(d Destination, services map[string]string) (string, error) {
	if d.Ref == nil {
		u, err := url.Parse(d.URI)
		if err != nil || !u.IsAbs() {
			return "", fmt.Errorf("uri %q: want an absolute URL without a ref", d.URI)
		}
		return d.URI, nil
	}
	if d.Ref.Kind != "Service" {
		return "", fmt.Errorf("ref kind %q: only Service refs resolve locally", d.Ref.Kind)
	}
	base, ok := services[d.Ref.Name]
	if !ok {
		return "", fmt.Errorf("service %q has no URL (configure it in Services / -service)", d.Ref.Name)
	}
	if d.URI == "" {
		return base, nil
	}
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(d.URI, "/"), nil
}
