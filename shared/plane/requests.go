package plane

import (
	"fmt"
	"net/http"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/httpapi"
)

// Chooser picks a request's plane. It may return the request carrying
// what it learnt (the verified caller), or an error to answer instead.
type Chooser func(r *http.Request) (*http.Request, Plane, error)

// Requests serves an HTTP function on both planes: each request is served
// by the handler of the plane its Chooser picks. The functions' hooks run
// on both.
type Requests struct {
	hooks
	choose   Chooser
	handlers Each[http.Handler]
}

var _ http.Handler = (*Requests)(nil)

// NewRequests serves handlers, one per plane, choosing with choose.
func NewRequests[T http.Handler](choose Chooser, handlers Each[T]) *Requests {
	q := &Requests{hooks: hooksOf(handlers), choose: choose}
	for _, p := range All() {
		q.handlers[p] = handlers[p]
	}
	return q
}

func (q *Requests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, p, err := q.choose(r)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	q.handlers[p].ServeHTTP(w, r)
}

// ByCaller chooses the plane of the request's user JWT, verified once
// (auth.Users.Remember; the handler's own Verify gets the same answer):
// shadow for a valid token with "shadow": true, real for any other
// request. A request with no valid token goes to the real handler, which
// answers it as it answers any (401 where a user is needed): a forged
// shadow token is a forged token, and a header is not a claim.
func ByCaller(users auth.Users) Chooser {
	return func(r *http.Request) (*http.Request, Plane, error) {
		r, c, err := users.Remember(r)
		if err != nil {
			return r, Real, nil
		}
		return r, OfCaller(c), nil
	}
}

// OfCaller is the plane of a verified caller.
func OfCaller(c auth.Caller) Plane {
	if c.Shadow {
		return Shadow
	}
	return Real
}

// User authenticates the caller of a function serving plane p: the user id
// of the request's verified JWT, 401 in the public shape without one, and
// an error (500) for a caller of the other plane, which only a wiring
// mistake can send (ByCaller sends each caller to its own plane).
func User(users auth.Users, r *http.Request, p Plane) (string, error) {
	c, err := users.Verify(r)
	if err != nil {
		return "", auth.HTTPError(err)
	}
	if got := OfCaller(c); got != p {
		return "", fmt.Errorf("a %v caller reached the %v plane", got, p)
	}
	return c.User, nil
}
