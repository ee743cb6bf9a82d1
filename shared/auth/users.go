// Package auth authenticates callers of the public API: users by an HS256
// JWT issued by the host application (sub = user id, and "shadow": true for
// load-test traffic), the operator by a static admin bearer token. Every
// failure wraps ErrUnauthorized, which the HTTP layer answers with 401
// `unauthorized`.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/surgekit/surge/shared/httpapi"
)

// ErrUnauthorized: the caller is not who it claims to be (missing, forged,
// expired or malformed credentials).
var ErrUnauthorized = errors.New("unauthorized")

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// MaxUserIDLen bounds a user id (the JWT sub).
const MaxUserIDLen = 128

// Users verifies user JWTs signed with Secret (HS256 only).
type Users struct {
	Secret []byte
}

// NewUsers returns a verifier for tokens signed with secret.
func NewUsers(secret []byte) Users { return Users{Secret: secret} }

// Caller is a verified user: who, and whether the host sent the request as
// shadow traffic (a load test, run on shadow state: package plane).
type Caller struct {
	User   string
	Shadow bool
}

// userClaims are the claims of a user JWT. Shadow is signed like every
// other claim: no header or parameter can make a caller shadow.
type userClaims struct {
	jwt.RegisteredClaims
	Shadow bool `json:"shadow,omitempty"`
}

// Verify returns the caller of the request's `Authorization: Bearer` JWT.
// A request that went through Remember is answered from its context, with
// the very result Remember had: a request is verified once.
func (u Users) Verify(r *http.Request) (Caller, error) {
	if v, ok := r.Context().Value(verifiedKey{}).(verified); ok {
		return v.caller, v.err
	}
	tok, err := Bearer(r)
	if err != nil {
		return Caller{}, err
	}
	return u.VerifyToken(tok)
}

// Remember verifies the request's JWT and returns the request carrying the
// result, which Verify then returns without checking the token again.
func (u Users) Remember(r *http.Request) (*http.Request, Caller, error) {
	c, err := u.Verify(r)
	return r.WithContext(context.WithValue(r.Context(), verifiedKey{}, verified{caller: c, err: err})), c, err
}

type verifiedKey struct{}

type verified struct {
	caller Caller
	err    error
}

// VerifyToken checks a JWT: HS256 signature with the secret (alg none and
// every other alg refused), exp present and not passed, nbf reached, a sub
// that is a usable user id, and "shadow", when present, a JSON boolean.
func (u Users) VerifyToken(tok string) (Caller, error) {
	if len(u.Secret) == 0 {
		return Caller{}, fmt.Errorf("%w: no jwt secret configured", ErrUnauthorized)
	}
	var claims userClaims
	_, err := jwt.ParseWithClaims(tok, &claims, u.key,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(Leeway), jwt.WithExpirationRequired())
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if !ValidUserID(claims.Subject) {
		return Caller{}, fmt.Errorf("%w: sub %q is not a valid user id", ErrUnauthorized, claims.Subject)
	}
	return Caller{User: claims.Subject, Shadow: claims.Shadow}, nil
}

func (u Users) key(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
		return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
	}
	return u.Secret, nil
}

// SignUser issues an HS256 JWT for user valid for ttl: what the host
// application does, for tests and load tools.
func SignUser(secret []byte, user string, ttl time.Duration) (string, error) {
	return Sign(secret, Caller{User: user}, ttl)
}

// Sign issues an HS256 JWT for c valid for ttl, with "shadow": true when c
// is shadow traffic (a load tool's crowd).
func Sign(secret []byte, c Caller, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := userClaims{Shadow: c.Shadow, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   c.User,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign jwt: %w", err)
	}
	return s, nil
}

// ValidUserID reports whether id can name a user: 1 to MaxUserIDLen
// printable ASCII characters, none of ':' '|' '{' '}' (user ids appear in
// order numbers, MAC inputs and Redis hash tags) and no space.
func ValidUserID(id string) bool {
	if id == "" || len(id) > MaxUserIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' || strings.IndexByte(":|{}", c) >= 0 {
			return false
		}
	}
	return true
}

// Bearer returns the token of an `Authorization: Bearer <token>` header.
func Bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
	}
	return strings.TrimSpace(tok), nil
}

// HTTPError is the public 401 for an authentication failure; the reason
// stays in the server's log, not in the answer.
func HTTPError(err error) *httpapi.Error {
	msg := "missing or invalid credentials"
	if errors.Is(err, jwt.ErrTokenExpired) {
		msg = "token expired"
	}
	return httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "%s", msg)
}
