package broker

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// object is one manifest document: its kind plus the raw bytes to decode
// further once the kind is known.
type object struct {
	file       string
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace,omitempty"`
	} `json:"metadata"`
	raw []byte
}

// loadObjects reads every *.yaml and *.yml file directly in dir (not
// recursive: overlays and kustomizations live in subdirectories and are
// never read) and splits them into documents, in file-name order.
func loadObjects(dir string) ([]object, error) {
	files, err := manifestFiles(dir)
	if err != nil {
		return nil, err
	}
	var objs []object
	for _, f := range files {
		docs, err := readDocuments(f)
		if err != nil {
			return nil, err
		}
		objs = append(objs, docs...)
	}
	return objs, nil
}

func manifestFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read manifest dir: %w", err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || isKustomization(e.Name()) {
			continue
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	sort.Strings(files)
	return files, nil
}

func isKustomization(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
	return base == "kustomization"
}

func readDocuments(path string) ([]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var objs []object
	for i, doc := range splitDocuments(data) {
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("parse %s document %d: %w", path, i+1, err)
		}
		if o.Kind == "" {
			continue // empty or comment-only document
		}
		o.file, o.raw = path, doc
		objs = append(objs, o)
	}
	return objs, nil
}

// splitDocuments splits a multi-document YAML stream on "---" lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), len(data)+1)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "---") && strings.TrimSpace(strings.SplitN(line, "#", 2)[0]) == "---" {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(docs, cur.Bytes())
}

// decodeAs decodes the raw document into v, naming the object on error.
func (o object) decodeAs(v any) error {
	if err := yaml.Unmarshal(o.raw, v); err != nil {
		return fmt.Errorf("decode %s %q in %s: %w", o.Kind, o.Metadata.Name, o.file, err)
	}
	return nil
}
