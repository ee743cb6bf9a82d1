package captcha_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/local/servers"
	"github.com/surgekit/surge/local/servers/servertest"
	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/keyspace"
)

var deps *servers.Set

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &deps)) }

// clock is a settable time source shared by the test and the service.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	svc   *captcha.Service
	bank  *captcha.Bank
	rdb   *redis.Client
	keys  keyspace.Space
	clock *clock
}

// bankSize is the bank of campaign c1 in every fixture.
const bankSize = 64

func newFixture(t *testing.T, cfg captcha.Config) fixture {
	t.Helper()
	env := servertest.Fresh(t, deps)
	rdb := servertest.Redis(t, env, 0)
	c := &clock{now: time.Now()}
	cfg.Secret = []byte("captcha-secret")
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	keys := keyspace.New(env.KeyPrefix)
	objects := captcha.NewObjects(servertest.S3(env), env.S3Bucket, 5*time.Second)
	svc, err := captcha.New(rdb, keys, objects, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bank := captcha.NewBank(rdb, keys, objects)
	if _, err := bank.Warm(context.Background(), "c1", bankSize); err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, bank: bank, rdb: rdb, keys: keys, clock: c}
}

// issue issues a challenge and looks its answer up in the bank, as the
// operator's load tools do.
func (f fixture) issue(t *testing.T, campaign, user string) (captcha.Challenge, string) {
	t.Helper()
	ch, err := f.svc.Issue(context.Background(), campaign, user)
	if err != nil {
		t.Fatal(err)
	}
	answers, err := f.bank.Answers(context.Background(), campaign)
	if err != nil {
		t.Fatal(err)
	}
	answer, ok := answers[captcha.EntryOf(ch.ImageURL)]
	if !ok {
		t.Fatalf("image %s shows no entry of the bank", ch.ImageURL)
	}
	return ch, answer
}

func TestAnswer(t *testing.T) {
	cases := []struct {
		name string
		// answer returns the error of the attempt under test.
		answer func(f fixture, ch captcha.Challenge, right string) error
		want   error
	}{
		{"right answer, after min age", func(f fixture, ch captcha.Challenge, right string) error {
			return f.svc.Answer(context.Background(), "c1", "alice", ch.ID, " "+right+" ")
		}, nil},
		{"wrong answer", func(f fixture, ch captcha.Challenge, right string) error {
			return f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right+"1")
		}, captcha.ErrWrongAnswer},
		{"replayed right answer", func(f fixture, ch captcha.Challenge, right string) error {
			if err := f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right); err != nil {
				return err
			}
			return f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right)
		}, captcha.ErrUnknownChallenge},
		{"right answer after a wrong one", func(f fixture, ch captcha.Challenge, right string) error {
			_ = f.svc.Answer(context.Background(), "c1", "alice", ch.ID, "nope")
			return f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right)
		}, captcha.ErrUnknownChallenge},
		{"another user", func(f fixture, ch captcha.Challenge, right string) error {
			return f.svc.Answer(context.Background(), "c1", "mallory", ch.ID, right)
		}, captcha.ErrUnknownChallenge},
		{"another campaign", func(f fixture, ch captcha.Challenge, right string) error {
			return f.svc.Answer(context.Background(), "c2", "alice", ch.ID, right)
		}, captcha.ErrUnknownChallenge},
		{"unknown id", func(f fixture, ch captcha.Challenge, right string) error {
			return f.svc.Answer(context.Background(), "c1", "alice", "nosuchchallenge", right)
		}, captcha.ErrUnknownChallenge},
		{"too soon", func(f fixture, ch captcha.Challenge, right string) error {
			f.clock.Add(-900 * time.Millisecond)
			return f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right)
		}, captcha.ErrTooSoon},
		{"past expiry", func(f fixture, ch captcha.Challenge, right string) error {
			f.clock.Add(time.Minute)
			return f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right)
		}, captcha.ErrExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, captcha.Config{TTL: 30 * time.Second, MinAge: time.Second})
			ch, right := f.issue(t, "c1", "alice")
			f.clock.Add(time.Second)
			if err := tc.answer(f, ch, right); !errors.Is(err, tc.want) {
				t.Fatalf("Answer = %v; want %v", err, tc.want)
			}
		})
	}
}

// Another user's attempt must not burn the owner's challenge.
func TestOtherUserDoesNotBurnChallenge(t *testing.T) {
	f := newFixture(t, captcha.Config{MinAge: 0})
	ch, right := f.issue(t, "c1", "alice")
	if err := f.svc.Answer(context.Background(), "c1", "mallory", ch.ID, right); !errors.Is(err, captcha.ErrUnknownChallenge) {
		t.Fatalf("mallory: %v; want ErrUnknownChallenge", err)
	}
	if err := f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right); err != nil {
		t.Fatalf("alice after mallory: %v; want nil", err)
	}
}

// With the real clock, an answer after the TTL is told "expired": the key
// outlives the TTL by a short grace, then Redis sweeps it.
func TestExpiredByRealClock(t *testing.T) {
	f := newFixture(t, captcha.Config{TTL: 50 * time.Millisecond, Now: time.Now})
	ch, right := f.issue(t, "c1", "alice")
	key := f.keys.Campaign("c1").Challenge(ch.ID)
	ttl, err := f.rdb.PTTL(context.Background(), key).Result()
	if err != nil || ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("PTTL = %v, %v; want a short positive ttl", ttl, err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right); !errors.Is(err, captcha.ErrExpired) {
		t.Fatalf("Answer after ttl = %v; want ErrExpired", err)
	}
}

// Redis holds the user, the times and a MAC: never the answer.
func TestStoredChallengeHoldsNoAnswer(t *testing.T) {
	f := newFixture(t, captcha.Config{})
	ch, _ := f.issue(t, "c1", "alice")
	h, err := f.rdb.HGetAll(context.Background(), f.keys.Campaign("c1").Challenge(ch.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"user": true, "issued_ms": true, "expires_ms": true, "mac": true, "entry": true}
	if len(h) != len(want) {
		t.Fatalf("stored fields %v; want exactly %v", h, want)
	}
	for k := range h {
		if !want[k] {
			t.Fatalf("stored field %q; want only %v", k, want)
		}
	}
	if len(h["mac"]) != 64 {
		t.Fatalf("mac %q; want 64 hex digits", h["mac"])
	}
}

// Many concurrent right answers to one challenge: exactly one wins.
func TestConcurrentAnswersAcceptedOnce(t *testing.T) {
	f := newFixture(t, captcha.Config{MinAge: 0})
	ch, right := f.issue(t, "c1", "alice")
	var ok, gone atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := f.svc.Answer(context.Background(), "c1", "alice", ch.ID, right); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, captcha.ErrUnknownChallenge):
				gone.Add(1)
			default:
				t.Errorf("Answer: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || gone.Load() != 31 {
		t.Fatalf("%d accepted, %d unknown; want 1 and 31", ok.Load(), gone.Load())
	}
}

func TestIssueUniqueIDs(t *testing.T) {
	f := newFixture(t, captcha.Config{})
	seen := make(map[string]bool)
	for range 50 {
		ch, _ := f.issue(t, "c1", "alice")
		if seen[ch.ID] || len(ch.ID) != 26 {
			t.Fatalf("challenge id %q repeated or not 26 chars", ch.ID)
		}
		seen[ch.ID] = true
		if ch.ExpiresAt.Sub(f.clock.Now()) != captcha.DefaultTTL {
			t.Fatalf("expires at %v; want now + %v", ch.ExpiresAt, captcha.DefaultTTL)
		}
	}
}
