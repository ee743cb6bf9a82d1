package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/surgekit/surge/events"
)

// Report is one pass, as written to S3.
type Report struct {
	Key        string           `json:"key"`
	EventID    string           `json:"event_id"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Mismatches int              `json:"mismatches"`
	Campaigns  []CampaignReport `json:"campaigns"`
}

func (r *Report) add(c CampaignReport) {
	r.Campaigns = append(r.Campaigns, c)
	if c.Mismatch {
		r.Mismatches++
	}
}

func (r Report) summary() events.ReconcileReportData {
	return events.ReconcileReportData{Campaigns: len(r.Campaigns), Mismatches: r.Mismatches, ReportKey: r.Key}
}

// reportKey is reconcile/<UTC timestamp>-<event id>.json, the event id
// reduced to characters safe in a key.
func reportKey(at time.Time, eventID string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, eventID)
	return "reconcile/" + at.UTC().Format("20060102T150405.000Z") + "-" + safe + ".json"
}

// objectStore is the part of the S3 client reconcile uses.
type objectStore interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, opts ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

func putReport(ctx context.Context, store objectStore, bucket string, timeout time.Duration, r Report) error {
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(r.Key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("put report %s: %w", r.Key, err)
	}
	return nil
}

// ensureBucket creates bucket unless it exists.
func ensureBucket(ctx context.Context, store objectStore, bucket string) error {
	if _, err := store.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	_, err := store.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// logReport writes the pass's one summary line and one error line per
// mismatching campaign.
func (f *Function) logReport(r Report) {
	for _, c := range r.Campaigns {
		if c.Mismatch {
			f.cfg.Log.Error("reconcile mismatch", "campaign_id", c.ID, "taken", c.Taken, "accounted", c.Accounted,
				"difference", c.Difference, "stale_inflight", len(c.StaleInflight), "report_key", r.Key)
		}
	}
	f.cfg.Log.Info("reconcile pass", "event_id", r.EventID, "campaigns", len(r.Campaigns),
		"mismatches", r.Mismatches, "report_key", r.Key)
}
