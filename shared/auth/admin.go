package auth

import (
	"crypto/sha256"
	"crypto/subtle"
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
	return a.Accept(tok)
}

// Accept accepts tok only when it is the admin token, as Check compares
// it; a page's login form hands the token over this way.
func (a Admin) Accept(tok string) error {
	if a.Token == "" {
		return fmt.Errorf("%w: no admin token configured", ErrUnauthorized)
	}
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(a.Token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return fmt.Errorf("%w: wrong admin token", ErrUnauthorized)
	}
	return nil
}
