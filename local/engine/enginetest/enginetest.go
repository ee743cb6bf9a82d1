// Package enginetest runs whole engines in tests: the broker and the
// functions are built once per test package and one set of dependency
// servers is started for it; each test then starts its own engine on a
// fresh slice of those servers.
package enginetest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
)

// Suite is what a test package's engines share.
type Suite struct {
	Deps   *servers.Set // the dependency servers
	Root   string       // the repository
	BinDir string       // the built broker and functions
}

// Main builds the broker and every function into a temporary directory,
// starts the servers, runs m and returns its exit code:
//
//	var suite enginetest.Suite
//	func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, &suite)) }
func Main(m *testing.M, s *Suite) int {
	wd, err := os.Getwd()
	if err == nil {
		s.Root, err = engine.Root(wd)
	}
	if err == nil {
		s.BinDir, err = os.MkdirTemp("", "surge-bin-")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(s.BinDir)
	if err := engine.Build(context.Background(), s.Root, s.BinDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return servertest.Main(m, &s.Deps)
}
