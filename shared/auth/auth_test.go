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

// shadowClaims are claims with a "shadow" value of any JSON type.
type shadowClaims struct {
	jwt.RegisteredClaims
	Shadow any `json:"shadow"`
}

func shadow(sub string, value any) shadowClaims {
	return shadowClaims{RegisteredClaims: claims(sub, time.Hour), Shadow: value}
}

func TestUsersVerify(t *testing.T) {
	good, err := auth.SignUser(secret, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	goodShadow, err := auth.Sign(secret, auth.Caller{User: "alice", Shadow: true}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	future := claims("alice", time.Hour)
	future.NotBefore = jwt.NewNumericDate(time.Now().Add(10 * time.Minute))
	noExp := jwt.RegisteredClaims{Subject: "alice"}
	cases := []struct {
		name, header string
		wantUser     string
		wantShadow   bool
	}{
		{"valid", "Bearer " + good, "alice", false},
		{"shadow", "Bearer " + goodShadow, "alice", true},
		{"shadow false", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, shadow("alice", false)), "alice", false},
		{"shadow signed with another key", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("other"), shadow("alice", true)), "", false},
		{"shadow as a string", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, shadow("alice", "true")), "", false},
		{"shadow as a number", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, shadow("alice", 1)), "", false},
		{"lower-case scheme", "bearer " + good, "alice", false},
		{"missing header", "", "", false},
		{"basic scheme", "Basic " + good, "", false},
		{"other secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("other"), claims("alice", time.Hour)), "", false},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("alice", time.Hour)), "", false},
		{"hs512 same secret", "Bearer " + sign(t, jwt.SigningMethodHS512, secret, claims("alice", time.Hour)), "", false},
		{"expired beyond leeway", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("alice", -2*auth.Leeway)), "", false},
		{"expired within leeway", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("alice", -auth.Leeway/3)), "alice", false},
		{"not yet valid", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, future), "", false},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, noExp), "", false},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("", time.Hour)), "", false},
		{"sub with colon", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("a:b", time.Hour)), "", false},
		{"sub with brace", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims("a}b", time.Hour)), "", false},
		{"tampered", "Bearer " + good[:len(good)-2] + "xx", "", false},
		{"garbage", "Bearer not.a.jwt", "", false},
	}
	users := auth.NewUsers(secret)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, err := users.Verify(r)
			if want := (auth.Caller{User: tc.wantUser, Shadow: tc.wantShadow}); tc.wantUser != "" {
				if err != nil || got != want {
					t.Fatalf("Verify = %+v, %v; want %+v, nil", got, err, want)
				}
				return
			}
			if !errors.Is(err, auth.ErrUnauthorized) || got != (auth.Caller{}) {
				t.Fatalf("Verify = %+v, %v; want ErrUnauthorized", got, err)
			}
		})
	}
}

// TestRememberVerifiesOnce: a remembered request is answered from its
// context, failure included, even once its header says something else.
func TestRememberVerifiesOnce(t *testing.T) {
	users := auth.NewUsers(secret)
	shadowTok, err := auth.Sign(secret, auth.Caller{User: "bob", Shadow: true}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, first string
		want        auth.Caller
	}{
		{"shadow caller", "Bearer " + shadowTok, auth.Caller{User: "bob", Shadow: true}},
		{"failure", "Bearer not.a.jwt", auth.Caller{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", tc.first)
			r, c, err := users.Remember(r)
			r.Header.Set("Authorization", "Bearer "+sign(t, jwt.SigningMethodHS256, secret, claims("mallory", time.Hour)))
			again, againErr := users.Verify(r)
			if c != tc.want || again != c || (err == nil) != (againErr == nil) {
				t.Fatalf("Remember = %+v, %v; Verify after = %+v, %v; want %+v both times", c, err, again, againErr, tc.want)
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

func TestAdminAccept(t *testing.T) {
	a := auth.NewAdmin("s3cret")
	for _, tc := range []struct {
		tok string
		ok  bool
	}{{"s3cret", true}, {"s3cres", false}, {"s3c", false}, {"", false}, {"s3cret ", false}} {
		if err := a.Accept(tc.tok); (err == nil) != tc.ok || (err != nil && !errors.Is(err, auth.ErrUnauthorized)) {
			t.Errorf("Accept(%q) = %v; want ok=%v", tc.tok, err, tc.ok)
		}
	}
	if err := auth.NewAdmin("").Accept(""); err == nil {
		t.Error("Accept of an empty token with none configured = nil; want refused")
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
