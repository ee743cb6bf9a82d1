package servers

import (
	"context"
	"errors"
	"net"
	"testing"
)

// A server whose port was taken reports errAddrInUse, so Start retries.
func TestRedisPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bin, err := redisBinary(context.Background(), orDiscard(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := &Redis{dir: t.TempDir(), port: l.Addr().(*net.TCPAddr).Port}
	_, err = r.run(context.Background(), bin)
	if !errors.Is(err, errAddrInUse) {
		t.Fatalf("run on a taken port: err = %v; want errAddrInUse", err)
	}
}

func TestOnFreePortsRetries(t *testing.T) {
	tests := []struct {
		name      string
		fails     int // tries that lose the port race
		wantTries int
		wantErr   bool
	}{
		{"first try", 0, 1, false},
		{"one race lost", 1, 2, false},
		{"always taken", portAttempts, portAttempts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tries := 0
			err := onFreePorts(context.Background(), 2, func(_ context.Context, ports []int) error {
				tries++
				if len(ports) != 2 || ports[0] == ports[1] {
					t.Fatalf("ports = %v; want 2 distinct", ports)
				}
				if tries <= tt.fails {
					return errAddrInUse
				}
				return nil
			})
			if tries != tt.wantTries || (err != nil) != tt.wantErr {
				t.Fatalf("tries = %d, err = %v; want %d tries, error %v", tries, err, tt.wantTries, tt.wantErr)
			}
		})
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("freePorts(5) = %v; want 5 distinct positive ports", ports)
		}
		seen[p] = true
	}
}
