package manifest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// envName is a variable the deployment must provide. LISTEN_ADDRESS and
// PORT are the runtime's (Knative sets PORT).
var envName = regexp.MustCompile(`^(SURGE_[A-Z0-9_]+|K_SINK)$`)

// sharedEnv is read by every function that calls connect.LoadEnv.
const sharedEnv = "shared/connect/env.go"

// ReadEnv returns, per function under repo/functions, the variables its
// non-test Go files name as string literals, plus those of
// shared/connect/env.go when it calls connect.LoadEnv.
func ReadEnv(repo string) (map[string][]string, error) {
	shared, _, err := literals([]string{filepath.Join(repo, sharedEnv)})
	if err != nil {
		return nil, err
	}
	dirs, err := filepath.Glob(filepath.Join(repo, "functions", "*", "main.go"))
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("read env: no functions/*/main.go under %s", repo)
	}
	out := make(map[string][]string)
	for _, m := range dirs {
		names, err := functionEnv(filepath.Dir(m), shared)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(filepath.Dir(m))] = names
	}
	return out, nil
}

func functionEnv(dir string, shared []string) ([]string, error) {
	files, err := goFiles(dir)
	if err != nil {
		return nil, err
	}
	names, loadsEnv, err := literals(files)
	if err != nil {
		return nil, err
	}
	if loadsEnv {
		names = append(names, shared...)
	}
	return unique(names), nil
}

func goFiles(dir string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("read env: %w", err)
	}
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	return files, nil
}

// literals parses files and returns the env-like string literals in them
// and whether any calls connect.LoadEnv.
func literals(files []string) (names []string, loadsEnv bool, err error) {
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, false, fmt.Errorf("read env: %w", err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && envName.MatchString(s) {
					names = append(names, s)
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "connect" && n.Sel.Name == "LoadEnv" {
					loadsEnv = true
				}
			}
			return true
		})
	}
	return names, loadsEnv, nil
}

func unique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
