package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/http"
	"strings"

	"github.com/surgekit/surge/shared/httpapi"
	"github.com/surgekit/surge/shared/keyspace"
	"github.com/surgekit/surge/shared/plane"
)

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 128

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// claimID returns the id of a new claim and whether it is derived from an
// Idempotency-Key (a retried click then maps to the same claim). Keys are
// per user and per plane: two users sending the same key get different
// claims, and so do a user's real and shadow clicks (the broker, which
// drops an event id it saw, must never take one for the other).
func claimID(r *http.Request, p plane.Plane, campaign, user string) (id string, idempotent bool, err error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		u, err := randomUnique()
		return keyspace.ClaimID(campaign, u), false, err
	}
	if len(key) > MaxIdempotencyKey {
		return "", false, httpapi.Errorf(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key over %d bytes", MaxIdempotencyKey)
	}
	sum := sha256.Sum256([]byte(claimDomain(p) + "\x00" + campaign + "\x00" + user + "\x00" + key))
	return keyspace.ClaimID(campaign, "k"+encode(sum[:16])), true, nil
}

// claimDomain separates the derived claim ids of the planes; the real
// plane's are what they were before there was a shadow one.
func claimDomain(p plane.Plane) string {
	if p == plane.Shadow {
		return "shadow-claim"
	}
	return "claim"
}

// randomUnique is 128 random bits; "r" and "k" prefixes keep random and
// derived ids apart.
func randomUnique() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("claim id: %w", err)
	}
	return "r" + encode(b), nil
}

func encode(b []byte) string { return strings.ToLower(b32.EncodeToString(b)) }
