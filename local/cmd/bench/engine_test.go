package main

import (
	"os"
	"testing"

	"github.com/surgekit/surge/local/engine"
	"github.com/surgekit/surge/local/engine/enginetest"
	"github.com/surgekit/surge/local/servers/servertest"
)

var suite enginetest.Suite

func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, &suite)) }

func testEngine(t *testing.T) (*engine.Engine, servertest.Env, engine.Secrets) {
	t.Helper()
	return suite.Start(t, engine.Config{})
}
