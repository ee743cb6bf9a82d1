package engine

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// NewSecrets returns fresh random secrets: a JWT secret, an admin token, a
// captcha secret, an Ed25519 receipt seed and an event key.
func NewSecrets() Secrets {
	return Secrets{
		JWTSecret: randomHex(32), AdminToken: randomHex(24), CaptchaSecret: randomHex(32),
		ReceiptKey: base64.StdEncoding.EncodeToString(randomBytes(32)), EventKey: randomHex(32),
	}
}

// Fill gives every secret s lacks (a secrets file written before that
// secret existed) a fresh value and reports whether it gave any; the
// secrets s has are kept, so tokens and receipts stay valid.
func (s *Secrets) Fill() bool {
	fresh := NewSecrets()
	filled := false
	for _, f := range []struct{ have, fresh *string }{
		{&s.JWTSecret, &fresh.JWTSecret}, {&s.AdminToken, &fresh.AdminToken},
		{&s.ReceiptKey, &fresh.ReceiptKey}, {&s.CaptchaSecret, &fresh.CaptchaSecret}, {&s.EventKey, &fresh.EventKey},
	} {
		if *f.have == "" {
			*f.have, filled = *f.fresh, true
		}
	}
	return filled
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
