package metrics

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

var s3Seconds = latency("surge_s3_request_duration_seconds",
	"S3 calls, retries included, by operation (PutObject, GetObject, …).", "operation")

// S3Timing times every call of an aws-sdk-go-v2 client, by operation:
// append it to the client's Options.APIOptions.
func S3Timing(stack *middleware.Stack) error {
	// After the operation's own initialize steps, which put its name in
	// the context; everything after (signing, retries, the round trips)
	// is timed.
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("SurgeS3Timing",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			s3Seconds.WithLabelValues(awsmiddleware.GetOperationName(ctx)).Observe(time.Since(start).Seconds())
			return out, md, err
		}), middleware.After)
}
