package plane

import (
	"context"
	"errors"
	"fmt"

	"github.com/surgekit/surge/shared/fn"
)

// hooks runs the Start, Stop, Ready and Alive hooks of each plane's
// function, real first: both planes of a function start, stop and are
// ready together.
type hooks []fn.Function

func hooksOf[T fn.Function](each Each[T]) hooks { return hooks{each[Real], each[Shadow]} }

// Start starts each plane's function; the first failure stops it.
func (h hooks) Start(ctx context.Context, env map[string]string) error {
	for i, f := range h {
		if s, ok := f.(fn.Starter); ok {
			if err := s.Start(ctx, env); err != nil {
				return fmt.Errorf("%s plane: %w", Plane(i), err)
			}
		}
	}
	return nil
}

// Stop stops every plane's function, whatever the others answer.
func (h hooks) Stop(ctx context.Context) error {
	var errs []error
	for i, f := range h {
		if s, ok := f.(fn.Stopper); ok {
			if err := s.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s plane: %w", Plane(i), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Ready answers true when every plane's function is ready.
func (h hooks) Ready(ctx context.Context) (bool, error) {
	return h.all(func(f fn.Function) (bool, error) {
		if r, ok := f.(fn.ReadinessReporter); ok {
			return r.Ready(ctx)
		}
		return true, nil
	})
}

// Alive answers true when every plane's function is alive.
func (h hooks) Alive(ctx context.Context) (bool, error) {
	return h.all(func(f fn.Function) (bool, error) {
		if l, ok := f.(fn.LivenessReporter); ok {
			return l.Alive(ctx)
		}
		return true, nil
	})
}

func (h hooks) all(check func(fn.Function) (bool, error)) (bool, error) {
	for i, f := range h {
		ok, err := check(f)
		if err != nil {
			return false, fmt.Errorf("%s plane: %w", Plane(i), err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}
