package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/surgekit/surge/local/engine"
)

// TestLoadSecretsFillsWhatAnOldFileLacks: a secrets.json written before the
// event key existed gets one, is written back with it, and keeps the rest
// (so the JWTs and receipt tokens issued before stay valid).
func TestLoadSecretsFillsWhatAnOldFileLacks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	old := `{"JWTSecret": "jwt-kept", "AdminToken": "admin-kept", "ReceiptKey": "receipt-kept", "CaptchaSecret": "captcha-kept"}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Secrets{JWTSecret: "jwt-kept", AdminToken: "admin-kept", ReceiptKey: "receipt-kept", CaptchaSecret: "captcha-kept",
		EventKey: got.EventKey}
	if got != want || len(got.EventKey) < 32 {
		t.Fatalf("loadSecrets = %+v, want the old secrets kept and an event key of 32 bytes or more", got)
	}
	var written engine.Secrets
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &written); err != nil || written != got {
		t.Fatalf("file holds %+v (%v), want %+v", written, err, got)
	}
	again, err := loadSecrets(path)
	if err != nil || again != got {
		t.Fatalf("second load = %+v (%v), want %+v", again, err, got)
	}
}

func TestLoadSecretsCreatesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	first, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	if first.EventKey == "" || first.JWTSecret == "" || first.ReceiptKey == "" {
		t.Fatalf("new secrets %+v, want every one set", first)
	}
	if again, err := loadSecrets(path); err != nil || again != first {
		t.Fatalf("second load = %+v (%v), want %+v", again, err, first)
	}
}
