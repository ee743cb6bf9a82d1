package fn

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTokenFileFollowsRotation: a rotated token is used within
// TokenRefresh, and the file is not read on every send.
func TestTokenFileFollowsRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	write := func(tok string) {
		if err := os.WriteFile(path, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock := time.Unix(1_800_000_000, 0)
	f := &tokenFile{path: path, now: func() time.Time { return clock }}
	if got := f.token(); got != "" {
		t.Fatalf("token before the file exists = %q, want none", got)
	}
	write("first")
	clock = clock.Add(TokenRefresh)
	if got := f.token(); got != "first" {
		t.Fatalf("token once mounted = %q, want first", got)
	}
	write("second")
	clock = clock.Add(TokenRefresh - time.Second)
	if got := f.token(); got != "first" {
		t.Errorf("token within TokenRefresh of the last read = %q, want first (no read per send)", got)
	}
	clock = clock.Add(time.Second)
	if got := f.token(); got != "second" {
		t.Errorf("token after TokenRefresh = %q, want second (rotated)", got)
	}
}
