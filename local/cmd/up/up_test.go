package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/auth"
)

// TestUpServesAndKeepsData runs the real `up` binary twice on one state
// directory: the first run serves a sale and writes .surge/env; after
// SIGINT (Ctrl-C) the second run still has the campaign and the order.
func TestUpServesAndKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole engine twice")
	}
	bin := filepath.Join(t.TempDir(), "up")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build up: %v\n%s", err, out)
	}
	state := t.TempDir()
	up, env := runUp(t, bin, state)
	api := upClient{env: env}
	api.call(t, http.MethodPost, "/v1/campaigns", env["SURGE_ADMIN_TOKEN"], fmt.Sprintf(`{"id":"keep","kind":"sale","title":"t",
		"items":[{"sku":"mug","stock":3,"price":500}],"per_user_limit":1,"starts_at":%q,"ends_at":"2099-01-01T00:00:00Z",
		"payment_window":"10m","captcha":false}`, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)), http.StatusCreated)
	api.call(t, http.MethodPost, "/v1/campaigns/keep/warmup", env["SURGE_ADMIN_TOKEN"], "", http.StatusOK)
	tok, err := auth.SignUser([]byte(env["SURGE_JWT_SECRET"]), "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	api.call(t, http.MethodPost, "/v1/campaigns/keep/claims", tok, `{"sku":"mug","qty":1}`, http.StatusAccepted)
	api.waitSettled(t, tok)
	stopUp(t, up)

	up, env = runUp(t, bin, state)
	api = upClient{env: env}
	api.waitSettled(t, tok) // the order is still there, signed with the kept secrets
	if got := api.call(t, http.MethodGet, "/v1/campaigns/keep/stock", "", "", http.StatusOK); !strings.Contains(got, `"remaining":2`) {
		t.Fatalf("stock after restart: %s, want remaining 2", got)
	}
	stopUp(t, up)
}

// runUp starts up and waits for its welcome line; it returns the process
// and what it wrote to .surge/env.
func runUp(t *testing.T, bin, state string) (*exec.Cmd, map[string]string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SURGE_STATE_DIR="+state, "SURGE_GATEWAY_ADDR=127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if !waitLine(out, "Surge is up at", 3*time.Minute) {
		t.Fatal("up did not print its welcome")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }() // drain until the process exits
	return cmd, readEnv(t, filepath.Join(state, "env"))
}

// stopUp presses Ctrl-C and expects a clean exit.
func stopUp(t *testing.T, up *exec.Cmd) {
	t.Helper()
	_ = up.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- up.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up exited with %v after Ctrl-C", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("up did not stop within a minute of Ctrl-C")
	}
}

func waitLine(r io.Reader, prefix string, timeout time.Duration) bool {
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), prefix) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		return ok
	case <-time.After(timeout):
		return false
	}
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := make(map[string]string)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = strings.Trim(v, "'")
		}
	}
	for _, k := range []string{"SURGE_URL", "SURGE_ADMIN_TOKEN", "SURGE_JWT_SECRET", "SURGE_DATABASE_URL", "SURGE_REDIS_URL", "SURGE_S3_ENDPOINT"} {
		if env[k] == "" {
			t.Fatalf("%s missing from %s:\n%s", k, path, data)
		}
	}
	return env
}

type upClient struct{ env map[string]string }

func (c upClient) call(t *testing.T, method, path, bearer, body string, want int) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, c.env["SURGE_URL"]+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	return string(data)
}

// waitSettled waits until the user's one order is listed as settled.
func (c upClient) waitSettled(t *testing.T, tok string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var l struct {
			Orders []struct{ State string } `json:"orders"`
		}
		_ = json.Unmarshal([]byte(c.call(t, http.MethodGet, "/v1/orders", tok, "", http.StatusOK)), &l)
		if len(l.Orders) == 1 && l.Orders[0].State == "settled" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the order never showed as settled")
}
