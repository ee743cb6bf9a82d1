package s3json_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/s3json"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// TestKeysAndRead: the keys under a prefix come sorted, only those after
// the one given; an object decodes, a key missing or not
// JSON is an error naming it.
func TestKeysAndRead(t *testing.T) {
	ctx := context.Background()
	env := servertest.Fresh(t, deps)
	store := servertest.S3(env)
	put := func(key, body string) {
		t.Helper()
		if _, err := store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(env.S3Bucket), Key: aws.String(key),
			Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"r/3", "r/1", "r/2", "other/1"} {
		put(k, `{"n":"`+k+`"}`)
	}
	put("r/4", "not json")
	keys, err := s3json.Keys(ctx, store, env.S3Bucket, "r/", "", 5*time.Second)
	if err != nil || !slices.Equal(keys, []string{"r/1", "r/2", "r/3", "r/4"}) {
		t.Errorf("Keys = %v, %v; want r/1..r/4", keys, err)
	}
	if keys, err = s3json.Keys(ctx, store, env.S3Bucket, "r/", "r/2", 5*time.Second); err != nil || !slices.Equal(keys, []string{"r/3", "r/4"}) {
		t.Errorf("Keys after r/2 = %v, %v; want r/3, r/4", keys, err)
	}
	var v struct{ N string }
	if err := s3json.Read(ctx, store, env.S3Bucket, "r/2", 5*time.Second, &v); err != nil || v.N != "r/2" {
		t.Errorf("Read r/2 = %+v, %v", v, err)
	}
	for _, key := range []string{"r/4", "r/9"} {
		if err := s3json.Read(ctx, store, env.S3Bucket, key, 5*time.Second, &v); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Read %s = %v; want an error naming it", key, err)
		}
	}
}
