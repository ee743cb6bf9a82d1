package connect

import (
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	env := map[string]string{"SET": "3s", "BAD": "soon"}
	getenv := func(k string) string { return env[k] }
	if d, err := Duration(getenv, "UNSET", time.Second); d != time.Second || err != nil {
		t.Errorf("unset = %v, %v; want the default 1s", d, err)
	}
	if d, err := Duration(getenv, "SET", time.Second); d != 3*time.Second || err != nil {
		t.Errorf("3s = %v, %v", d, err)
	}
	if _, err := Duration(getenv, "BAD", time.Second); err == nil || !strings.HasPrefix(err.Error(), "BAD: ") {
		t.Errorf("bad = %v; want an error naming BAD", err)
	}
	if e, err := LoadEnv(getenv); e.Timeout != 2*time.Second || err != nil {
		t.Errorf("LoadEnv timeout = %v, %v; want the default 2s", e.Timeout, err)
	}
}
