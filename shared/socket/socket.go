// Package socket opens a process's listening socket: the one its
// supervisor bound and handed down, or a new one.
//
// The local engine binds every process's port itself and passes the
// socket to the child (the descriptor named by SURGE_LISTEN_FD), so no
// other program can take a port between the moment it is picked and the
// moment the child listens on it. On Kubernetes the variable is unset and
// the process listens on its address as usual.
package socket

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
)

// FDVar names the environment variable that holds the inherited
// descriptor's number.
const FDVar = "SURGE_LISTEN_FD"

// Listen returns the inherited listening socket when getenv(FDVar) names
// one, and otherwise listens on addr.
func Listen(getenv func(string) string, addr string) (net.Listener, error) {
	s := getenv(FDVar)
	if s == "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		return ln, nil
	}
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("listen: %s=%q is not an inherited descriptor", FDVar, s)
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // FileListener holds a copy
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("listen on inherited %s=%d: %w", FDVar, fd, err)
	}
	return ln, nil
}

// Pass hands ln to cmd, which has not started yet: a duplicate of the
// socket goes in cmd.ExtraFiles and its number in cmd.Env. ln is closed;
// the caller closes the returned file once cmd has started (the child
// holds its own copy then).
func Pass(cmd *exec.Cmd, ln *net.TCPListener) (*os.File, error) {
	defer ln.Close()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	f, err := ln.File()
	if err != nil {
		return nil, fmt.Errorf("hand socket over: %w", err)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", FDVar, 2+len(cmd.ExtraFiles)))
	return f, nil
}
