// Package api holds the OpenAPI 3 description of Surge's public API v1
// (openapi.yaml beside this file): every route the gateway serves
// (local/gateway.Routes), its parameters, bodies, headers and the error
// codes of each status. Tests check it against the gateway's routes and
// against the answers of a running engine.
package api

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpenAPI is openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Load parses OpenAPI, resolves its references and validates it as an
// OpenAPI 3 document.
func Load(ctx context.Context) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return doc, nil
}

// Operation is one method and path of the document, the path with its
// parameters unnamed ("/v1/claims/{}"), so that it compares with a
// ServeMux pattern whatever each side names them.
type Operation struct{ Method, Path string }

func (o Operation) String() string { return o.Method + " " + o.Path }

var param = regexp.MustCompile(`\{[^}]*\}`)

// Shape is path with its parameters unnamed ("{$}" and "{name...}" too).
func Shape(path string) string { return param.ReplaceAllString(path, "{}") }

// Operations lists every method and path doc describes.
func Operations(doc *openapi3.T) []Operation {
	var out []Operation
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, Operation{Method: method, Path: Shape(path)})
		}
	}
	return out
}
