// Package manifest renders the Knative kustomize tree of infra/knative
// offline, decodes every object strictly into its Kubernetes or Knative Go
// type, runs the types' own defaulting and validation, and cross-checks the
// objects against the code (event types, emitters, environment, routes).
package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Root is where Tree puts infra/knative in the in-memory filesystem.
const Root = "/infra/knative"

// SecretsExample lists the keys of Secret surge-secrets, one KEY= a line.
const SecretsExample = "base/secrets.env.example"

// kindSecrets is the gitignored file the kind overlay generates its Secret
// from; Tree writes it with dummy values.
const kindSecrets = "overlays/kind/secrets.env"

// Raw is one rendered object: its identity and its JSON.
type Raw struct {
	Ref
	JSON []byte
}

// Ref names an object.
type Ref struct {
	APIVersion, Kind, Namespace, Name string
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s %s", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}

// Tree copies repo/infra/knative into an in-memory filesystem at Root, so a
// render reads only what is in git and a test can change it freely. The
// kind overlay's secrets.env (gitignored, written by make deploy) is left
// out and replaced by the keys of secrets.env.example with dummy values.
func Tree(repo string) (filesys.FileSystem, error) {
	src := filepath.Join(repo, "infra", "knative")
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || filepath.ToSlash(rel) == kindSecrets {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join(Root, filepath.ToSlash(rel)), data)
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	return mem, writeDummySecrets(mem)
}

func writeDummySecrets(mem filesys.FileSystem) error {
	if !mem.IsDir(path.Join(Root, path.Dir(kindSecrets))) {
		return nil
	}
	keys, err := SecretKeys(mem)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=dummy-%s\n", k, strings.ToLower(k))
	}
	return mem.WriteFile(path.Join(Root, kindSecrets), b.Bytes())
}

// SecretKeys reads the keys of secrets.env.example in the tree.
func SecretKeys(fsys filesys.FileSystem) ([]string, error) {
	data, err := fsys.ReadFile(path.Join(Root, SecretsExample))
	if err != nil {
		return nil, fmt.Errorf("secret keys: %w", err)
	}
	var keys []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _ := strings.Cut(line, "=")
		keys = append(keys, strings.TrimSpace(key))
	}
	return keys, sc.Err()
}

// Render runs kustomize on dir (a path in fsys, relative to Root) and
// returns the rendered objects in kustomize's output order.
func Render(fsys filesys.FileSystem, dir string) ([]Raw, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, path.Join(Root, dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	var out []Raw
	for _, r := range m.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize %s: %s: %w", dir, r.CurId(), err)
		}
		out = append(out, Raw{Ref: Ref{r.GetApiVersion(), r.GetKind(), r.GetNamespace(), r.GetName()}, JSON: data})
	}
	return out, nil
}
