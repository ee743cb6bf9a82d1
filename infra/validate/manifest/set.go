package manifest

import (
	"context"
	"errors"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Set is the decoded, defaulted and validated render of one kustomization.
type Set struct {
	Objects []Object
}

// Load renders dir, decodes every object strictly and admits it (Knative
// defaults and validation). Every problem is reported, not just the first.
func Load(ctx context.Context, fsys filesys.FileSystem, dir string) (Set, error) {
	raws, err := Render(fsys, dir)
	if err != nil {
		return Set{}, err
	}
	ctx, err = Context(ctx)
	if err != nil {
		return Set{}, err
	}
	var s Set
	var errs []error
	for _, raw := range raws {
		o, err := Decode(raw)
		if err == nil {
			err = Admit(ctx, o)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Objects = append(s.Objects, o)
	}
	return s, errors.Join(errs...)
}

// All returns the values of type T keyed by name. A render is one
// namespace: the overlays set it, the base leaves it empty.
func All[T any](s Set) map[string]T {
	out := make(map[string]T)
	for _, o := range s.Objects {
		if v, ok := o.Value.(T); ok {
			out[o.Name] = v
		}
	}
	return out
}

// Each calls f with every value of type T, in render order.
func Each[T any](s Set, f func(Ref, T)) {
	for _, o := range s.Objects {
		if v, ok := o.Value.(T); ok {
			f(o.Ref, v)
		}
	}
}
