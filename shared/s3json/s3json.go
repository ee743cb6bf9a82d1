// Package s3json lists and reads the JSON objects one function writes to
// S3 and another reads: reconcile writes a report per pass under
// reconcile/, reconcile's API and admin's dashboard read them back.
package s3json

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store is the part of the S3 client this package reads with.
type Store interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Keys lists the keys under prefix in bucket that sort after after ("":
// all of them), sorted; each page of the listing within timeout.
func Keys(ctx context.Context, store Store, bucket, prefix, after string, timeout time.Duration) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	pages := s3.NewListObjectsV2Paginator(store, in)
	var keys []string
	for pages.HasMorePages() {
		page, err := nextPage(ctx, pages, timeout)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func nextPage(ctx context.Context, pages *s3.ListObjectsV2Paginator, timeout time.Duration) (*s3.ListObjectsV2Output, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pages.NextPage(ctx)
}

// Read decodes the object key of bucket into v, within timeout.
func Read(ctx context.Context, store Store, bucket, key string, timeout time.Duration, v any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}
