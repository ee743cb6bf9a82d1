package stock

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// DeductBatch decides reqs with the pre-deduct script in one pipeline
// (EVALSHA each, the script loaded once on NOSCRIPT): one round trip for
// the batch instead of one per claim. Each claim is still decided
// atomically and alone, exactly as Deduct decides it; decisions come back
// in the order of reqs. An error fails the whole batch: retry it, the
// script is idempotent on the claim id.
func (d *Deducter) DeductBatch(ctx context.Context, reqs []Request) ([]Decision, error) {
	for _, r := range reqs {
		if err := r.validate(); err != nil {
			return nil, err
		}
	}
	cmds, err := d.pipeline(ctx, reqs)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := deductScript.Load(ctx, d.rdb).Err(); err != nil {
			return nil, fmt.Errorf("deduct batch: load script: %w", err)
		}
		cmds, err = d.pipeline(ctx, reqs)
	}
	if err != nil {
		return nil, fmt.Errorf("deduct batch of %d: %w", len(reqs), err)
	}
	out := make([]Decision, len(cmds))
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil {
			return nil, fmt.Errorf("deduct claim %s: %w", reqs[i].ClaimID, err)
		}
		if out[i], err = decode(res); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pipeline sends one EVALSHA per request and returns their commands.
func (d *Deducter) pipeline(ctx context.Context, reqs []Request) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(reqs))
	_, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range reqs {
			keys, args := d.scriptInput(r)
			cmds[i] = deductScript.EvalSha(ctx, p, keys, args...)
		}
		return nil
	})
	return cmds, err
}
