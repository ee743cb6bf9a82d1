package main

import (
	"bytes"
	"testing"
)

func TestRunReportsEachKustomization(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), "../..", &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, name := range []string{"base", "kind", "production"} {
		if !bytes.Contains(out.Bytes(), []byte(name+": ")) || !bytes.Contains(out.Bytes(), []byte("objects valid")) {
			t.Errorf("run output has no line for %s:\n%s", name, out.String())
		}
	}
}

func TestRunFailsOnMissingRepo(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), t.TempDir(), &out); err == nil {
		t.Errorf("run(empty dir) = nil, want an error")
	}
}
