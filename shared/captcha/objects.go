package captcha

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Objects keeps the bank's images in one S3 bucket (MinIO locally), the
// origin a CDN serves them from. Clients fetch an image through a
// short-lived presigned GET, so the bucket itself stays private.
type Objects struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	prefix  string        // of every object key (Under)
	timeout time.Duration // of one upload
}

// NewObjects returns the image store on bucket. timeout bounds one upload.
func NewObjects(client *s3.Client, bucket string, timeout time.Duration) *Objects {
	return &Objects{client: client, presign: s3.NewPresignClient(client), bucket: bucket, timeout: timeout}
}

// Under is the same store with every key prefixed by prefix (a plane's
// objects: plane.Plane.ObjectPrefix).
func (o *Objects) Under(prefix string) *Objects {
	c := *o
	c.prefix = prefix
	return &c
}

// Put uploads one PNG image under key.
func (o *Objects) Put(ctx context.Context, key string, png []byte) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	_, err := o.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key), Body: bytes.NewReader(png),
		ContentType: aws.String("image/png"), CacheControl: aws.String("private, max-age=300"),
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// URL presigns a GET of key valid for ttl. It signs locally: no request.
func (o *Objects) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := o.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.prefix + key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

// ObjectKey names the image of a bank entry. The entry id is 128 random
// bits, so the name says nothing about the answer.
func ObjectKey(campaign, entry string) string { return "captcha/" + campaign + "/" + entry + ".png" }
