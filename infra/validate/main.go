// Command validate checks the Knative manifests of infra/knative offline:
// it renders the base and each overlay with kustomize, decodes every object
// strictly into its Kubernetes or Knative Go type, runs Knative's defaults
// and validation, and cross-checks the render against the code. It prints
// one line per kustomization and exits 1 on any problem.
//
//	cd infra/validate && go run . [-repo ../..]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/surgekit/surge/infra/validate/manifest"
)

func main() {
	repo := flag.String("repo", "../..", "the repository root")
	flag.Parse()
	if err := run(context.Background(), *repo, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, repo string, out io.Writer) error {
	fsys, err := manifest.Tree(repo)
	if err != nil {
		return err
	}
	facts, err := manifest.ReadFacts(repo)
	if err != nil {
		return err
	}
	failed := 0
	for _, t := range manifest.Targets() {
		n, err := manifest.Validate(ctx, fsys, facts, t)
		if err != nil {
			fmt.Fprintf(out, "%s: INVALID\n%v\n", t.Name, err)
			failed++
			continue
		}
		fmt.Fprintf(out, "%s: %d objects valid\n", t.Name, n)
	}
	if failed > 0 {
		return fmt.Errorf("validate: %d of %d kustomizations invalid", failed, len(manifest.Targets()))
	}
	return nil
}
