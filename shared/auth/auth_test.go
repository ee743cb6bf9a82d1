package auth_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/surgekit/surge/shared/auth"
)

var secret = []byte("test-secret-0123456789")

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func claims(sub string, exp time.Duration) jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{Subject: sub, ExpiresAt: jwt.NewNumericDate(now.Add(exp))}
}

func TestUsersVerify(t *testing.T) {
	good, err := auth.SignUser(secret, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	future := claims("alice", time.Hour)
	future.NotBefore = jwt.NewNumericDate(time.Now().Add(10 * time.Minute))
	noExp := jwt.RegisteredClaims{Subject: "alice"}
	cases := []struct {
		name, header string
		wantUser     string
	}{
		{"valid", "Bearer " + good, "alice"},
		{"lower-case scheme", "bearer " + good, "alice"},
		{"missing header", "", ""},
		{"basic scheme", "Basic " + good, ""},
		{"other secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("other"), claims("alice", time.Hour)), ""},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("alice", time.Hour)), ""},
		{"hs512 same secret", "Bearer " + sign(t, jwt.SigningMethodHS512, secret, claims("alice", time.Hour)), ""},
		{"expired beyond leeway", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("alice", -2*auth.Leeway)), ""},
		{"expired within leeway", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("alice", -auth.Leeway/3)), "alice"},
		{"not yet valid", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, future), ""},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, noExp), ""},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("", time.Hour)), ""},
		{"sub with colon", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("a:b", time.Hour)), ""},
		{"sub with brace", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("a}b", time.Hour)), ""},
		{"tampered", "Bearer " + good[:len(good)-2] + "xx", ""},
		{"garbage", "Bearer not.a.jwt", ""},
	}
	users := auth.NewUsers(secret)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, err := users.Verify(r)
			if tc.wantUser != "" {
				if err != nil || got != tc.wantUser {
					t.Fatalf("Verify = %q, %v; want %q, nil", got, err, tc.wantUser)
				}
				return
			}
			if !errors.Is(err, auth.ErrUnauthorized) || got != "" {
				t.Fatalf("Verify = %q, %v; want ErrUnauthorized", got, err)
			}
		})
	}
}

func TestExpiredTokenSaysSo(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, secret, claims("alice", -time.Hour))
	_, err := auth.NewUsers(secret).VerifyToken(tok)
	if e := auth.HTTPError(err); e.Status != 401 || e.Code != "unauthorized" || e.Message != "token expired" {
		t.Fatalf("HTTPError = %+v; want 401 unauthorized, token expired", e)
	}
}

func TestAdminCheck(t *testing.T) {
	cases := []struct {
		name, configured, header string
		ok                       bool
	}{
		{"right token", "s3cret", "Bearer s3cret", true},
		{"wrong token", "s3cret", "Bearer s3cres", false},
		{"prefix of token", "s3cret", "Bearer s3c", false},
		{"missing header", "s3cret", "", false},
		{"nothing configured", "", "Bearer ", false},
		{"nothing configured, any token", "", "Bearer x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			err := auth.NewAdmin(tc.configured).Check(r)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, auth.ErrUnauthorized)) {
				t.Fatalf("Check = %v; want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestValidUserID(t *testing.T) {
	for id, want := range map[string]bool{
		"alice": true, "user-17": true, "a@b.c": true, "": false, "a b": false,
		"a|b": false, "a\x00": false, "é": false, string(make([]byte, auth.MaxUserIDLen+1)): false,
	} {
		if got := auth.ValidUserID(id); got != want {
			t.Errorf("ValidUserID(%q) = %v; want %v", id, got, want)
		}
	}
}
