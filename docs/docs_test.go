// Package docs_test keeps the project's documents standing alone: every
// link in them leads to a file of the repository (and a heading that
// exists), and every make target says what it does in `make help`.
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// root is the repository, the parent of docs/.
const root = ".."

var documents = []string{"README.md", "BENCHMARKS.md", "docs/DESIGN.md"}

var (
	link    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
)

// TestLinksStayInside: every Markdown link of the documents is a path
// relative to its document that names a file or folder of the repository,
// and its #fragment, if any, a heading of the file it leads to. No link
// leaves the repository (no URL, no absolute path, nothing above the root).
func TestLinksStayInside(t *testing.T) {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range documents {
		text := read(t, doc)
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target, fragment, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "/") || strings.HasPrefix(target, "mailto:") {
				t.Errorf("%s links to %s, outside the repository", doc, m[1])
				continue
			}
			file := doc
			if target != "" {
				file = filepath.Join(filepath.Dir(doc), target)
			}
			full, err := filepath.Abs(filepath.Join(root, file))
			if err != nil || (full != abs && !strings.HasPrefix(full, abs+string(filepath.Separator))) {
				t.Errorf("%s links to %s, outside the repository", doc, m[1])
				continue
			}
			if _, err := os.Stat(full); err != nil {
				t.Errorf("%s links to %s: no such file in the repository", doc, m[1])
				continue
			}
			if fragment != "" && strings.HasSuffix(file, ".md") && !anchors(read(t, file))[fragment] {
				t.Errorf("%s links to %s: %s has no heading #%s", doc, m[1], file, fragment)
			}
		}
	}
}

// anchors are the fragments GitHub gives the headings of a Markdown text.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(stripFences(text), -1) {
		slug := slugOf(m[1])
		if n := seen[slug]; n > 0 {
			out[slug+"-"+string(rune('0'+n))] = true
		}
		seen[slug]++
		out[slug] = true
	}
	return out
}

// slugOf is GitHub's anchor of a heading: lower case, punctuation dropped
// (but '-' and '_'), spaces turned to '-'.
func slugOf(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripFences drops fenced code blocks, whose '#' lines are not headings.
func stripFences(text string) string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

var (
	rule    = regexp.MustCompile(`^([a-z][a-z0-9_-]*):([^=]|$)`)
	helpFor = regexp.MustCompile(`^## ([a-z][a-z0-9_-]*): \S`)
	include = regexp.MustCompile(`^include (\S+)`)
)

// TestMakeTargetsDescribed: every target of the Makefile and the files it
// includes has a `## target: description` comment, which `make help` (the
// default goal) prints.
func TestMakeTargetsDescribed(t *testing.T) {
	files := []string{"Makefile"}
	for _, line := range strings.Split(read(t, "Makefile"), "\n") {
		if m := include.FindStringSubmatch(line); m != nil {
			files = append(files, m[1])
		}
	}
	described := map[string]bool{}
	var targets []string
	for _, f := range files {
		for _, line := range strings.Split(read(t, f), "\n") {
			if m := helpFor.FindStringSubmatch(line); m != nil {
				described[m[1]] = true
			}
			if m := rule.FindStringSubmatch(line); m != nil {
				targets = append(targets, f+": "+m[1])
			}
		}
	}
	if len(targets) < 5 {
		t.Fatalf("found only %v: the Makefile was not read", targets)
	}
	for _, target := range targets {
		name := target[strings.LastIndex(target, " ")+1:]
		if !described[name] {
			t.Errorf("%s has no `## %s: description` comment: make help would not list it", target, name)
		}
	}
	if !strings.Contains(read(t, "Makefile"), ".DEFAULT_GOAL := help") {
		t.Error("make with no target no longer prints the help (.DEFAULT_GOAL := help), as README.md says")
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
