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

	port int
	dir  string
	proc *proc
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
	err = onFreePorts(ctx, 2, func(ctx context.Context, ports []int) error {
		return m.run(ctx, bin, ports[0], ports[1])
	})
	if err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	log.Info("minio started", "endpoint", m.Endpoint(), "dir", dir, "pid", m.proc.pid())
	return m, nil
}

// run starts the server on port (console on consolePort) and waits until
// it is live.
func (m *MinIO) run(ctx context.Context, bin string, port, consolePort int) error {
	p, err := startProc(procSpec{
		name: "minio",
		path: bin,
		args: []string{
			"server", filepath.Join(m.dir, "data"),
			"--address", loopback(port), "--console-address", loopback(consolePort),
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
		return err
	}
	m.port, m.proc = port, p
	if err := waitReady(ctx, p, m.live); err != nil {
		_ = p.stop(syscall.SIGKILL, 5*time.Second)
		return err
	}
	return nil
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

// Stop shuts MinIO down with SIGTERM, killing it after 15 s.
func (m *MinIO) Stop() error {
	return m.proc.stop(syscall.SIGTERM, 15*time.Second)
}
