package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks requests sent to a deployment and its answers against
// the document: strictly, so that an answer with a status the route does
// not list, a header it requires missing, or a body its schema refuses is
// an error.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// NewValidator validates exchanges with the deployment at base (a URL such
// as http://127.0.0.1:8088), the document's servers replaced by it.
func NewValidator(doc *openapi3.T, base string) (*Validator, error) {
	copied := *doc
	copied.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(&copied)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	return &Validator{doc: &copied, router: router}, nil
}

var options = &openapi3filter.Options{
	IncludeResponseStatus: true, // a status the route does not list is an error
	MultiError:            false,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
}

// input finds r's operation.
func (v *Validator) input(r *http.Request) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, fmt.Errorf("%s %s is not in openapi.yaml: %w", r.Method, r.URL.Path, err)
	}
	return &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: options}, nil
}

// Request checks a request (its body given apart, as it is sent) against
// its operation's parameters and request body, and returns the operation.
func (v *Validator) Request(ctx context.Context, r *http.Request, body []byte) (Operation, error) {
	in, err := v.input(r.Clone(ctx))
	if err != nil {
		return Operation{}, err
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	op := Operation{Method: in.Route.Method, Path: Shape(in.Route.Path)}
	return op, openapi3filter.ValidateRequest(ctx, in)
}

// Response checks the answer to r: its status is one the operation
// lists, its headers are those the status requires, its body matches the
// status's schema. It returns the operation.
func (v *Validator) Response(ctx context.Context, r *http.Request, status int, header http.Header, body []byte) (Operation, error) {
	in, err := v.input(r)
	if err != nil {
		return Operation{}, err
	}
	op := Operation{Method: in.Route.Method, Path: Shape(in.Route.Path)}
	if status == http.StatusNotModified { // openapi3filter skips it; a 304 has no body to check
		if in.Route.Operation.Responses.Status(status) == nil {
			return op, fmt.Errorf("%v answered 304, which openapi.yaml does not list", op)
		}
		if len(body) > 0 {
			return op, errors.New("a 304 with a body")
		}
		return op, nil
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: options,
	})
	if err != nil {
		return op, fmt.Errorf("%v answered %s %s: %w", op, strconv.Itoa(status), body, err)
	}
	return op, nil
}
