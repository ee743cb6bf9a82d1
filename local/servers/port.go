package servers

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// portAttempts bounds retries when a picked port is taken before the server
// binds it.
const portAttempts = 4

// freePorts returns n distinct free loopback ports. All listeners are held
// until every port is picked, so the ports differ.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// onFreePorts runs try with n fresh ports, again with new ones when the
// server lost a race for its port.
func onFreePorts(ctx context.Context, n int, try func(ctx context.Context, ports []int) error) error {
	var err error
	for range portAttempts {
		var ports []int
		if ports, err = freePorts(n); err != nil {
			return err
		}
		if err = try(ctx, ports); !errors.Is(err, errAddrInUse) {
			return err
		}
	}
	return err
}
