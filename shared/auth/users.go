// Package auth authenticates callers of the public API: users by an HS256
// JWT issued by the host application (sub = user id), the operator by a
// static admin bearer token. Every failure wraps ErrUnauthorized, which
// the HTTP layer answers with 401 `unauthorized`.
package auth

import (
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

// Verify returns the user id of the request's `Authorization: Bearer` JWT.
func (u Users) Verify(r *http.Request) (string, error) {
	tok, err := Bearer(r)
	if err != nil {
		return "", err
	}
	return u.VerifyToken(tok)
}

// VerifyToken checks a JWT: HS256 signature with the secret (alg none and
// every other alg refused), exp present and not passed, nbf reached, and a
// sub that is a usable user id.
func (u Users) VerifyToken(tok string) (string, error) {
	if len(u.Secret) == 0 {
		return "", fmt.Errorf("%w: no jwt secret configured", ErrUnauthorized)
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(tok, &claims, u.key,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(Leeway), jwt.WithExpirationRequired())
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	if !ValidUserID(claims.Subject) {
		return "", fmt.Errorf("%w: sub %q is not a valid user id", ErrUnauthorized, claims.Subject)
	}
	return claims.Subject, nil
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
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
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
