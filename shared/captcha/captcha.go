// Package captcha hands out anti-bot challenges (秒杀答题) and checks their
// answers. The challenges are images of digits rendered once per campaign,
// at warm-up, into a bank (Bank): each image is uploaded to S3 under a
// random name and its answer kept in Redis for the issuer and the operator
// only. Issuing a challenge leases one free entry of the bank to one user
// and hands out a presigned URL of its image; answering (right or wrong)
// or the lease's end puts the entry back. A challenge is bound to its user
// and campaign, usable once, answered no sooner than MinAge after it was
// issued and no later than TTL. The challenge record keeps only
// HMAC(secret, user|campaign|challenge|answer), never the answer, and
// consuming it is atomic: a replayed answer fails even when it is right.
package captcha

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surgekit/surge/shared/keyspace"
)

// Errors of Answer. ErrUnknownChallenge covers a challenge never issued to
// this user in this campaign, already used, or expired and swept.
var (
	ErrUnknownChallenge = errors.New("unknown or used challenge")
	ErrExpired          = errors.New("challenge expired")
	ErrTooSoon          = errors.New("challenge answered too soon")
	ErrWrongAnswer      = errors.New("wrong answer")
)

// Config tunes the challenges.
type Config struct {
	Secret []byte        // HMAC key (SURGE_CAPTCHA_SECRET), required
	TTL    time.Duration // how long a challenge can be answered; 2m default
	MinAge time.Duration // earliest answer after issue; zero means none (callers usually pass DefaultMinAge)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultTTL fills a zero TTL; DefaultMinAge is the usual MinAge.
const (
	DefaultTTL    = 2 * time.Minute
	DefaultMinAge = time.Second
)

// sweepGrace keeps a challenge key a little past its expiry so a late answer
// is told "expired" rather than "unknown".
const sweepGrace = 5 * time.Second

func (c *Config) fill() error {
	if len(c.Secret) == 0 {
		return errors.New("captcha: secret is required")
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.MinAge < 0 {
		return errors.New("captcha: min age must not be negative")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Challenge is what the caller gets: no answer, no MAC, only a
// short-lived URL of the image.
type Challenge struct {
	ID        string    `json:"challenge_id"`
	ImageURL  string    `json:"image_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Presigner makes a URL that serves the object key for ttl.
type Presigner interface {
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Service issues and checks challenges.
type Service struct {
	rdb    redis.UniversalClient
	keys   keyspace.Space
	images Presigner
	cfg    Config
}

// New returns a Service storing challenges in rdb under keys and handing
// out images presigned by images. cfg.MinAge zero means no minimum; use
// DefaultMinAge for the usual second.
func New(rdb redis.UniversalClient, keys keyspace.Space, images Presigner, cfg Config) (*Service, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Service{rdb: rdb, keys: keys, images: images, cfg: cfg}, nil
}

// Issue leases a bank entry of campaign to user as a new challenge. It
// fails with ErrNoBank or ErrBankExhausted. The lease lasts as long as
// the challenge record (TTL + sweepGrace), so an entry is never held by two
// live challenges.
func (s *Service) Issue(ctx context.Context, campaign, user string) (Challenge, error) {
	id, err := newID()
	if err != nil {
		return Challenge{}, err
	}
	now := s.cfg.Now()
	ch := Challenge{ID: id, ExpiresAt: now.Add(s.cfg.TTL).UTC()}
	entry, answer, err := s.leaseEntry(ctx, campaign, id, now, ch.ExpiresAt.Add(sweepGrace))
	if err != nil {
		return Challenge{}, err
	}
	if ch.ImageURL, err = s.images.URL(ctx, ObjectKey(campaign, entry), s.cfg.TTL); err != nil {
		return Challenge{}, fmt.Errorf("issue challenge: %w", err)
	}
	if err := s.store(ctx, campaign, user, ch, now, entry, s.mac(user, campaign, id, answer)); err != nil {
		return Challenge{}, err
	}
	return ch, nil
}

// Hash fields of a stored challenge.
const (
	fieldUser    = "user"
	fieldIssued  = "issued_ms"
	fieldExpires = "expires_ms"
	fieldMAC     = "mac"
	fieldEntry   = "entry"
)

func (s *Service) store(ctx context.Context, campaign, user string, ch Challenge, now time.Time, entry, mac string) error {
	key := s.keys.Campaign(campaign).Challenge(ch.ID)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fieldUser, user, fieldIssued, now.UnixMilli(), fieldExpires, ch.ExpiresAt.UnixMilli(),
			fieldMAC, mac, fieldEntry, entry)
		p.PExpire(ctx, key, s.cfg.TTL+sweepGrace)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store challenge: %w", err)
	}
	return nil
}

// mac binds an answer to its user, campaign and challenge.
func (s *Service) mac(user, campaign, challengeID, answer string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte(user + "|" + campaign + "|" + challengeID + "|" + normalize(answer)))
	return hex.EncodeToString(m.Sum(nil))
}

func normalize(answer string) string { return strings.ToLower(strings.TrimSpace(answer)) }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns 128 random bits as 26 lower-case base32 characters.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("challenge id: %w", err)
	}
	return strings.ToLower(idEncoding.EncodeToString(b)), nil
}
