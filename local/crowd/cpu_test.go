package crowd_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/surgekit/surge/local/crowd"
)

func TestCPUByCommandNamesABusyChild(t *testing.T) {
	burner := exec.Command("/bin/sh", "-c", "while :; do :; done")
	if err := burner.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = burner.Process.Kill(); _ = burner.Wait() }()
	var got map[string]time.Duration
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		if got, err = crowd.CPUByCommand(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if got["sh"] >= 100*time.Millisecond {
			break
		}
	}
	if got["sh"] < 100*time.Millisecond {
		t.Fatalf("CPUByCommand = %v; want sh with at least 100ms", got)
	}
	tree, err := crowd.TreeCPU(os.Getpid(), false)
	if err != nil || tree < got["sh"] {
		t.Errorf("TreeCPU = %v, %v; want at least the child's %v", tree, err, got["sh"])
	}
}
