package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/httpapi"
)

// TestWriteErrorStoreDown: the errors the drivers return while Redis or
// PostgreSQL is down or cut off are 503 store_unavailable with
// Retry-After; any other error is still 500.
func TestWriteErrorStoreDown(t *testing.T) {
	closed, silent := closedAddr(t), silentAddr(t)
	tests := []struct {
		name     string
		err      error
		wantCode int
	}{
		{"redis refused", redisErr(closed), http.StatusServiceUnavailable},
		{"redis i/o timeout", redisErr(silent), http.StatusServiceUnavailable},
		{"postgres refused", pgErr(closed), http.StatusServiceUnavailable},
		{"postgres shutting down", fmt.Errorf("reserve: %w", &pgconn.PgError{Code: "57P01"}), http.StatusServiceUnavailable},
		{"postgres connection failure", &pgconn.PgError{Code: "08006"}, http.StatusServiceUnavailable},
		{"deadline", fmt.Errorf("read spec: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"unique violation", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), http.StatusInternalServerError},
		{"redis nil", fmt.Errorf("get: %w", redis.Nil), http.StatusInternalServerError},
		{"plain", errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, tt.err)
			if w.Code != tt.wantCode {
				t.Fatalf("WriteError(%v): status %d, want %d", tt.err, w.Code, tt.wantCode)
			}
			if tt.wantCode != http.StatusServiceUnavailable {
				return
			}
			var body struct{ Error httpapi.Error }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if body.Error.Code != "store_unavailable" || w.Header().Get("Retry-After") != "1" || w.Header().Get("Retry-After-Ms") == "" {
				t.Fatalf("got code %q, Retry-After %q, Retry-After-Ms %q; want store_unavailable, 1, set",
					body.Error.Code, w.Header().Get("Retry-After"), w.Header().Get("Retry-After-Ms"))
			}
		})
	}
}

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentAddr accepts connections and never answers.
func silentAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

func redisErr(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ReadTimeout: 50 * time.Millisecond, DialTimeout: time.Second})
	defer c.Close()
	return fmt.Errorf("take: %w", c.Ping(context.Background()).Err())
}

func pgErr(addr string) error {
	_, err := pgx.Connect(context.Background(), "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=1")
	return fmt.Errorf("open: %w", err)
}

// TestWriteErrorRetryAfter: a 429 or 503 always tells when to retry; any
// other status only when the error says so (409 not_settled).
func TestWriteErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name      string
		err       *httpapi.Error
		wantAfter string
	}{
		{"503 without a delay", httpapi.Errorf(http.StatusServiceUnavailable, "overloaded", "busy"), "1"},
		{"429 with 1.5s", httpapi.Errorf(http.StatusTooManyRequests, "rate_limited_user", "slow").WithRetryAfter(1500 * time.Millisecond), "2"},
		{"409 with a delay", httpapi.Errorf(http.StatusConflict, "not_settled", "wait").WithRetryAfter(time.Second), "1"},
		{"409 without", httpapi.Errorf(http.StatusConflict, "sold_out", "gone"), ""},
		{"400", httpapi.Errorf(http.StatusBadRequest, "malformed_json", "bad"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, tt.err)
			got, gotMs := w.Header().Get("Retry-After"), w.Header().Get("Retry-After-Ms")
			if got != tt.wantAfter || (gotMs == "") != (tt.wantAfter == "") {
				t.Fatalf("Retry-After %q, Retry-After-Ms %q; want %q", got, gotMs, tt.wantAfter)
			}
		})
	}
}
