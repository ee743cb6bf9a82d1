package events_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/surgekit/surge/events"
)

// TestTypesListsEveryType: a Type constant added to types.go and left out
// of Types would be counted as "other" by the broker's metrics.
func TestTypesListsEveryType(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "types.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range spec.Names {
			if !strings.HasPrefix(name.Name, "Type") || i >= len(spec.Values) {
				continue
			}
			lit, ok := spec.Values[i].(*ast.BasicLit)
			if !ok {
				continue
			}
			declared++
			if typ, _ := strconv.Unquote(lit.Value); !slices.Contains(events.Types(), typ) {
				t.Errorf("%s (%s) is not in events.Types()", name.Name, typ)
			}
		}
		return true
	})
	if got := len(events.Types()); got != declared {
		t.Errorf("events.Types() has %d types; types.go declares %d", got, declared)
	}
}
