package auth_test

import (
	"testing"
	"time"

	"github.com/surgekit/surge/shared/auth"
)

// BenchmarkSignUser measures minting a user JWT, as the crowd does once
// per simulated user.
func BenchmarkSignUser(b *testing.B) {
	for range b.N {
		if _, err := auth.SignUser(secret, "user-42", time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyToken measures the JWT check every claim passes in captcha.
func BenchmarkVerifyToken(b *testing.B) {
	tok, err := auth.SignUser(secret, "user-42", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	u := auth.NewUsers(secret)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := u.VerifyToken(tok); err != nil {
			b.Fatal(err)
		}
	}
}
