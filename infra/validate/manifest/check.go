package manifest

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// secretName is the Secret every function takes with envFrom.
const secretName = "surge-secrets"

// Target is one kustomization to validate.
type Target struct {
	Name string // what the report calls it
	Dir  string // relative to Root
	// ExternalSecret: surge-secrets is created outside the render (by the
	// operator or a secret manager); its keys are secrets.env.example's.
	ExternalSecret bool
}

// Targets are the base and both overlays. The kind overlay generates
// surge-secrets itself, so there it must be in the render.
func Targets() []Target {
	return []Target{
		{Name: "base", Dir: "base", ExternalSecret: true},
		{Name: "kind", Dir: "overlays/kind"},
		{Name: "production", Dir: "overlays/production", ExternalSecret: true},
	}
}

// Validate renders t, decodes and admits every object, then cross-checks
// the render against the facts. It returns how many objects were valid.
func Validate(ctx context.Context, fsys filesys.FileSystem, f Facts, t Target) (int, error) {
	s, err := Load(ctx, fsys, t.Dir)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t.Name, err)
	}
	if t.ExternalSecret {
		keys, err := SecretKeys(fsys)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t.Name, err)
		}
		f.External = map[string][]string{secretName: keys}
	}
	if err := errors.Join(s.CheckTriggers(f), s.CheckEnv(f), s.CheckPolicies(f), s.CheckRoutes(f), s.CheckScrape(), checkHasBase(fsys, t, s)); err != nil {
		return 0, fmt.Errorf("%s: %w", t.Name, err)
	}
	return len(s.Objects), nil
}

// checkHasBase proves an overlay keeps every object of the base: a patch
// that deletes one (`$patch: delete`) or an overlay that stops including
// the base would otherwise silently lose it.
func checkHasBase(fsys filesys.FileSystem, t Target, s Set) error {
	if t.Dir == "base" {
		return nil
	}
	raws, err := Render(fsys, "base")
	if err != nil {
		return err
	}
	have := make(map[Ref]bool)
	for _, o := range s.Objects {
		have[Ref{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name}] = true
	}
	var errs []error
	for _, r := range raws {
		if !have[Ref{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}] {
			errs = append(errs, fmt.Errorf("%s of the base is missing from the overlay", r.Ref))
		}
	}
	return errors.Join(errs...)
}
