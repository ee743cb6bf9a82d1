package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
)

// Admin checks the operator's static bearer token.
type Admin struct {
	Token string
}

// NewAdmin returns a checker for token.
func NewAdmin(token string) Admin { return Admin{Token: token} }

// Check accepts the request only when it carries `Authorization: Bearer
// <Token>`. The comparison is constant time (over SHA-256 digests, so the
// token's length does not leak either); an empty configured token accepts
// nothing.
func (a Admin) Check(r *http.Request) error {
	tok, err := Bearer(r)
	if err != nil {
		return err
	}
	if a.Token == "" {
		return fmt.Errorf("%w: no admin token configured", ErrUnauthorized)
	}
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(a.Token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return fmt.Errorf("%w: wrong admin token", ErrUnauthorized)
	}
	return nil
}

// SessionCookie is the cookie a browser holds once the operator gave the
// admin token to a page (the dashboard): a browser's EventSource cannot
// send an Authorization header.
const SessionCookie = "surge_admin"

// Session is the value of SessionCookie for this token: an HMAC of it, so
// the cookie never holds the token itself and changes when it changes;
// "" when no token is configured.
func (a Admin) Session() string {
	if a.Token == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(a.Token))
	m.Write([]byte("surge dashboard session v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckSession accepts the request when it carries the admin token
// (Check) or the session cookie of it.
func (a Admin) CheckSession(r *http.Request) error {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return a.Check(r)
	}
	want := a.Session()
	if want == "" || !hmac.Equal([]byte(c.Value), []byte(want)) {
		return fmt.Errorf("%w: wrong admin session", ErrUnauthorized)
	}
	return nil
}
