package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/surgekit/surge/shared/auth"
)

// sessionCookie is what a browser holds once the operator gave the admin
// token to the dashboard's login form: a page's EventSource cannot send
// an Authorization header.
const sessionCookie = "surge_dashboard"

// sessionPath is where the browser sends the cookie: the dashboard only.
const sessionPath = "/dashboard"

// sessions issues and checks dashboard sessions. A session is
// "<expiry unix>.<HMAC-SHA256 of it under the admin token>": the cookie
// never holds the token, a changed token ends every session, and one
// cannot be stretched past its expiry.
type sessions struct {
	admin auth.Admin
	ttl   time.Duration
	now   func() time.Time
}

var errNoSession = fmt.Errorf("%w: no valid dashboard session", auth.ErrUnauthorized)

// issue is the cookie of a new session, Secure when the request came
// over TLS (directly or as the proxy in front says).
func (s sessions) issue(r *http.Request) *http.Cookie {
	expires := s.now().Add(s.ttl)
	exp := strconv.FormatInt(expires.Unix(), 10)
	return &http.Cookie{Name: sessionCookie, Value: exp + "." + s.mac(exp), Path: sessionPath,
		Expires: expires, MaxAge: int(s.ttl.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"}
}

func (s sessions) mac(exp string) string {
	m := hmac.New(sha256.New, []byte(s.admin.Token))
	m.Write([]byte("surge dashboard session v1\n" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check accepts a request carrying a live session cookie, or the admin
// token itself (a script reading the stream).
func (s sessions) check(r *http.Request) error {
	c, err := r.Cookie(sessionCookie)
	if errors.Is(err, http.ErrNoCookie) {
		return s.admin.Check(r)
	}
	if err != nil || !s.valid(c.Value) {
		return errNoSession
	}
	return nil
}

func (s sessions) valid(value string) bool {
	exp, mac, ok := strings.Cut(value, ".")
	if !ok || s.admin.Token == "" {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(s.mac(exp)))
}
