package captcha

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// ErrBankWarming: another warm-up is rendering this campaign's bank now.
var ErrBankWarming = errors.New("challenge bank is being rendered")

// Bank sizing. A challenge takes its bank entry out of circulation from
// issue until it is answered or its lease ends (TTL + a short grace), so no
// two users ever hold the same entry at once; the bank must therefore cover
// every challenge outstanding at one time, at worst one per user of the
// sale within a TTL (a user who is told sold out never answers, so the
// entry comes back only at the lease's end). The size is the campaign's
// expected crowd when it gives one, else its total stock × BankPerUnit,
// never below BankFloor nor above BankCap (rendering and uploading the cap
// takes over 30 s on 2 busy cores, and warm-up renders it in its request). A sale whose bank runs dry answers 503 to
// the challenge call until entries come back.
const (
	BankPerUnit = 20
	BankFloor   = 200
	BankCap     = 20000
)

// BankSize is the bank of a campaign expecting expectedCrowd users (0:
// unknown) for totalStock units.
func BankSize(expectedCrowd, totalStock int) int {
	n := expectedCrowd
	if n <= 0 {
		n = totalStock * BankPerUnit
	}
	return min(max(n, BankFloor), BankCap)
}

// Uploader stores one rendered image.
type Uploader interface {
	Put(ctx context.Context, key string, png []byte) error
}

// Bank renders a campaign's challenges once, at warm-up, and gives the
// operator their answers. Images go to S3 under ObjectKey; Redis keeps the
// answers (BankAnswers, never returned by the public API) and the free set.
type Bank struct {
	rdb     redis.UniversalClient
	keys    keyspace.Space
	images  Uploader
	workers int // uploads in flight
}

// NewBank returns a Bank writing images to images and entries to rdb.
func NewBank(rdb redis.UniversalClient, keys keyspace.Space, images Uploader) *Bank {
	return &Bank{rdb: rdb, keys: keys, images: images, workers: 16}
}

// BankState is what a warm-up found or made.
type BankState struct {
	Size     int  `json:"size"`     // entries in the bank
	Rendered bool `json:"rendered"` // this call rendered them
}

// lockTTL bounds how long a crashed warm-up blocks the next one.
const lockTTL = 10 * time.Minute

// Warm renders size entries for campaign unless its bank is already there:
// a bank is written whole, in one transaction, after every image is
// uploaded, so an existing answers hash is a complete bank and is left as
// it is. Concurrent warm-ups are kept apart by a lock; the loser gets
// ErrBankWarming.
func (b *Bank) Warm(ctx context.Context, campaign string, size int) (BankState, error) {
	keys := b.keys.Campaign(campaign)
	if n, err := b.size(ctx, keys); n > 0 || err != nil {
		return BankState{Size: n}, err
	}
	got, err := b.rdb.SetNX(ctx, keys.BankLock(), "1", lockTTL).Result()
	if err != nil {
		return BankState{}, fmt.Errorf("lock bank: %w", err)
	}
	if !got {
		return BankState{}, ErrBankWarming
	}
	defer b.unlock(ctx, keys)
	if n, err := b.size(ctx, keys); n > 0 || err != nil { // finished between the check and the lock
		return BankState{Size: n}, err
	}
	entries, err := b.renderAll(ctx, campaign, size)
	if err != nil {
		return BankState{}, err
	}
	if err := b.install(ctx, keys, entries); err != nil {
		return BankState{}, err
	}
	return BankState{Size: len(entries), Rendered: true}, nil
}

func (b *Bank) size(ctx context.Context, keys keyspace.Campaign) (int, error) {
	n, err := b.rdb.HLen(ctx, keys.BankAnswers()).Result()
	if err != nil {
		return 0, fmt.Errorf("read bank: %w", err)
	}
	return int(n), nil
}

func (b *Bank) unlock(ctx context.Context, keys keyspace.Campaign) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = b.rdb.Del(ctx, keys.BankLock()).Err() // it expires anyway
}

// renderAll renders and uploads size entries with b.workers at once; the
// first error stops the rest.
func (b *Bank) renderAll(ctx context.Context, campaign string, size int) ([]entry, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]entry, size)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(b.workers, size) {
		wg.Go(func() { // ends when next is closed
			for i := range next {
				e, err := b.renderOne(ctx, campaign)
				if err != nil {
					cancel(err)
					continue
				}
				out[i] = e
			}
		})
	}
	b.feed(ctx, next, size)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("render bank: %w", err)
	}
	return out, nil
}

// feed sends 0..n-1 on next until ctx ends, then closes it.
func (b *Bank) feed(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}

func (b *Bank) renderOne(ctx context.Context, campaign string) (entry, error) {
	e, err := render()
	if err != nil {
		return entry{}, err
	}
	if err := b.images.Put(ctx, ObjectKey(campaign, e.id), e.png); err != nil {
		return entry{}, err
	}
	return e, nil
}

// installChunk bounds the arguments of one HSET or SADD.
const installChunk = 500

// install writes the answers and the free set in one transaction.
func (b *Bank) install(ctx context.Context, keys keyspace.Campaign, entries []entry) error {
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for lo := 0; lo < len(entries); lo += installChunk {
			chunk := entries[lo:min(lo+installChunk, len(entries))]
			pairs, ids := make([]any, 0, 2*len(chunk)), make([]any, 0, len(chunk))
			for _, e := range chunk {
				pairs, ids = append(pairs, e.id, e.answer), append(ids, e.id)
			}
			p.HSet(ctx, keys.BankAnswers(), pairs...)
			p.SAdd(ctx, keys.BankFree(), ids...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("install bank: %w", err)
	}
	return nil
}

// Answers is the operator's read of the bank: entry id → answer. Load
// tools use it to answer challenges (the entry is the image's object name).
func (b *Bank) Answers(ctx context.Context, campaign string) (map[string]string, error) {
	m, err := b.rdb.HGetAll(ctx, b.keys.Campaign(campaign).BankAnswers()).Result()
	if err != nil {
		return nil, fmt.Errorf("read bank answers: %w", err)
	}
	return m, nil
}

// EntryOf returns the bank entry an image URL (or object key) shows: the
// inverse of ObjectKey, for the operator's load tools.
func EntryOf(imageURL string) string {
	u, _, _ := strings.Cut(imageURL, "?")
	return strings.TrimSuffix(path.Base(u), ".png")
}
