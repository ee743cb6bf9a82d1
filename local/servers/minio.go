package servers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Fixed development credentials and region of every MinIO we start.
const (
	MinIOUser     = "surgeminio"
	MinIOPassword = "surgeminio-dev-secret"
	MinIORegion   = "us-east-1"
)

// MinIO is a single-drive MinIO server child process.
type MinIO struct {
	AccessKey string
	SecretKey string
	Region    string

	port    int
	console int
	dir     string
	keep    *keeper
}

// StartMinIO starts MinIO with its data in dir/data, building the pinned
// binary first when it is not cached.
func StartMinIO(ctx context.Context, dir string, log *slog.Logger) (*MinIO, error) {
	log = orDiscard(log)
	bin, err := minioBinary(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	m := &MinIO{AccessKey: MinIOUser, SecretKey: MinIOPassword, Region: MinIORegion, dir: dir}
	var first *proc
	err = onFreePorts(ctx, 2, func(ctx context.Context, ports []int) (err error) {
		m.port, m.console = ports[0], ports[1]
		first, err = m.run(ctx, bin)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	m.keep = keepAlive("minio", m.Addr(), log, first, func(ctx context.Context) (*proc, error) {
		return m.run(ctx, bin)
	})
	log.Info("minio started", "endpoint", m.Endpoint(), "dir", dir, "pid", m.PID())
	return m, nil
}

// run starts the server on m.port (console on m.console) and waits until
// it is live.
func (m *MinIO) run(ctx context.Context, bin string) (*proc, error) {
	p, err := startProc(procSpec{
		name: "minio",
		path: bin,
		args: []string{
			"server", filepath.Join(m.dir, "data"),
			"--address", loopback(m.port), "--console-address", loopback(m.console),
			"--certs-dir", filepath.Join(m.dir, "certs"), "--quiet",
		},
		env: []string{
			"MINIO_ROOT_USER=" + m.AccessKey, "MINIO_ROOT_PASSWORD=" + m.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off",
		},
		dir:     m.dir,
		logPath: filepath.Join(m.dir, "minio.log"),
	})
	if err != nil {
		return nil, err
	}
	return p, readyOrStop(ctx, p, m.live, syscall.SIGKILL)
}

func (m *MinIO) live(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint()+"/minio/health/live", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Addr is host:port of the S3 API.
func (m *MinIO) Addr() string { return loopback(m.port) }

// Endpoint is "http://127.0.0.1:PORT".
func (m *MinIO) Endpoint() string { return "http://" + m.Addr() }

// Dir is the state directory.
func (m *MinIO) Dir() string { return m.dir }

// PID is the process id of the running MinIO (a new one after a restart).
func (m *MinIO) PID() int { return m.keep.pid() }

// Client returns an S3 client for this server: path-style addressing,
// static credentials, region us-east-1.
func (m *MinIO) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       m.Region,
		BaseEndpoint: aws.String(m.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
}

// CreateBucket creates bucket name. A bucket we already own is not an
// error (as in S3 us-east-1), so `make up` can call it on every start.
func (m *MinIO) CreateBucket(ctx context.Context, name string) error {
	_, err := m.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// Stop ends the supervision and shuts MinIO down with SIGTERM, killing it
// after 15 s.
func (m *MinIO) Stop() error {
	return m.keep.stop(syscall.SIGTERM, 15*time.Second)
}
