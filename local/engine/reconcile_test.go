package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/shared/connect"
)

// assertReconciled sends reconcile a ping, as the PingSource would, and
// expects a report of zero mismatches that is really stored in S3.
func assertReconciled(t *testing.T, s *stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cloudevents.NewClientHTTP(cloudevents.WithTarget(s.ServiceURL("reconcile")))
	if err != nil {
		t.Fatal(err)
	}
	ping := cloudevents.NewEvent()
	ping.SetID("e2e-" + t.Name())
	ping.SetType(events.TypePing)
	ping.SetSource("/apis/v1/namespaces/default/pingsources/reconcile-tick")
	reply, res := c.Request(ctx, ping)
	if !cloudevents.IsACK(res) || reply == nil {
		t.Fatalf("ping reconcile: %v (reply %v)", res, reply)
	}
	var got events.ReconcileReportData
	if err := reply.DataAs(&got); err != nil {
		t.Fatal(err)
	}
	if got.Mismatches != 0 || got.Campaigns < 1 {
		t.Fatalf("reconcile found %d mismatches in %d campaigns (report %s), want 0", got.Mismatches, got.Campaigns, got.ReportKey)
	}
	store := connect.S3(connect.S3Config{Endpoint: s.env.S3Endpoint, AccessKey: s.env.S3AccessKey, SecretKey: s.env.S3SecretKey})
	if _, err := store.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.env.S3Bucket), Key: aws.String(got.ReportKey)}); err != nil {
		t.Fatalf("report %s not in the bucket: %v", got.ReportKey, err)
	}
}
