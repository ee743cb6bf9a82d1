package engine

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// NewSecrets returns fresh random secrets: a JWT secret, an admin token, a
// captcha secret and an Ed25519 receipt seed.
func NewSecrets() Secrets {
	return Secrets{
		JWTSecret: randomHex(32), AdminToken: randomHex(24), CaptchaSecret: randomHex(32),
		ReceiptKey: base64.StdEncoding.EncodeToString(randomBytes(32)),
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
