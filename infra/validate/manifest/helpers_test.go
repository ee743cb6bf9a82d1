package manifest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surgekit/surge/infra/validate/manifest"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// repo is the repository root, seen from infra/validate/manifest.
var repo = filepath.Join("..", "..", "..")

func tree(t *testing.T) filesys.FileSystem {
	t.Helper()
	fsys, err := manifest.Tree(repo)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func facts(t *testing.T) manifest.Facts {
	t.Helper()
	f, err := manifest.ReadFacts(repo)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func target(t *testing.T, name string) manifest.Target {
	t.Helper()
	for _, tg := range manifest.Targets() {
		if tg.Name == name {
			return tg
		}
	}
	t.Fatalf("no target %q", name)
	return manifest.Target{}
}

// appendDoc adds a YAML document to a file of the in-memory tree.
func appendDoc(t *testing.T, fsys filesys.FileSystem, file, doc string) {
	t.Helper()
	p := filepath.ToSlash(filepath.Join(manifest.Root, file))
	data, err := fsys.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := fsys.WriteFile(p, append(data, []byte("\n---\n"+doc)...)); err != nil {
		t.Fatal(err)
	}
}

func validate(t *testing.T, fsys filesys.FileSystem, f manifest.Facts, name string) (int, error) {
	t.Helper()
	return manifest.Validate(context.Background(), fsys, f, target(t, name))
}

// writeFile replaces a file of the in-memory tree.
func writeFile(t *testing.T, fsys filesys.FileSystem, file, content string) {
	t.Helper()
	if err := fsys.WriteFile(filepath.ToSlash(filepath.Join(manifest.Root, file)), []byte(content)); err != nil {
		t.Fatal(err)
	}
}

// replace replaces old by new, once, in a file of the in-memory tree.
func replace(t *testing.T, fsys filesys.FileSystem, edit [3]string) {
	t.Helper()
	p := filepath.ToSlash(filepath.Join(manifest.Root, edit[0]))
	data, err := fsys.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), edit[1]) {
		t.Fatalf("%s does not contain %q", edit[0], edit[1])
	}
	writeFile(t, fsys, edit[0], strings.Replace(string(data), edit[1], edit[2], 1))
}
