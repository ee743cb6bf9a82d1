package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/connect"
	"github.com/surgekit/surge/shared/plane"
)

// assertReconciled sends reconcile a ping, as the PingSource would, and
// expects a report of zero mismatches that is really stored in S3.
func assertReconciled(t *testing.T, s *stack) {
	t.Helper()
	got := s.ping(t, plane.Real)
	if got.Mismatches != 0 || got.Campaigns < 1 {
		t.Fatalf("reconcile found %d mismatches in %d campaigns (report %s), want 0", got.Mismatches, got.Campaigns, got.ReportKey)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.s3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.env.S3Bucket), Key: aws.String(got.ReportKey)}); err != nil {
		t.Fatalf("report %s not in the bucket: %v", got.ReportKey, err)
	}
}

// ping sends reconcile a ping on plane p, as that plane's PingSource
// would, and returns the summary of the pass it replies, which must be on
// the same plane, its report under the plane's prefix.
func (s *stack) ping(t *testing.T, p plane.Plane) events.ReconcileReportData {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cloudevents.NewClientHTTP(cloudevents.WithTarget(s.ServiceURL("reconcile")))
	if err != nil {
		t.Fatal(err)
	}
	ping := cloudevents.NewEvent()
	ping.SetID("e2e-" + t.Name() + "-" + p.String())
	ping.SetType(events.TypePing)
	ping.SetSource("/apis/v1/namespaces/default/pingsources/reconcile-tick")
	plane.Mark(&ping, p)
	reply, res := c.Request(ctx, ping)
	if !cloudevents.IsACK(res) || reply == nil {
		t.Fatalf("ping reconcile on the %v plane: %v (reply %v)", p, res, reply)
	}
	var got events.ReconcileReportData
	if err := reply.DataAs(&got); err != nil {
		t.Fatal(err)
	}
	if on, _ := plane.Of(*reply); on != p || !strings.HasPrefix(got.ReportKey, p.ObjectPrefix()+"reconcile/") {
		t.Fatalf("%v ping: report %s on the %v plane; want it on its own, under %q", p, got.ReportKey, on, p.ObjectPrefix())
	}
	return got
}

// s3 is a client of the engine's bucket.
func (s *stack) s3() *s3.Client {
	return connect.S3(connect.S3Config{Endpoint: s.env.S3Endpoint, AccessKey: s.env.S3AccessKey, SecretKey: s.env.S3SecretKey})
}
