package receipt

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
)

// PublicKey is one verification key as GET /v1/keys publishes it, shaped
// like a JWK (RFC 8037).
type PublicKey struct {
	KeyID string `json:"kid"`
	Type  string `json:"kty"` // "OKP"
	Curve string `json:"crv"` // "Ed25519"
	X     string `json:"x"`   // base64url of the 32-byte public key
}

// KeySet is the body of GET /v1/keys.
type KeySet struct {
	Keys []PublicKey `json:"keys"`
}

// PublicKeys lists the keys v trusts, ordered by key id.
func (v *Verifier) PublicKeys() KeySet {
	set := KeySet{Keys: make([]PublicKey, 0, len(v.keys))}
	for id, k := range v.keys {
		set.Keys = append(set.Keys, PublicKey{KeyID: id, Type: "OKP", Curve: "Ed25519", X: encoding.EncodeToString(k)})
	}
	sort.Slice(set.Keys, func(i, j int) bool { return set.Keys[i].KeyID < set.Keys[j].KeyID })
	return set
}

// DecodeSeed reads SURGE_RECEIPT_KEY: the standard base64 of a 32-byte
// Ed25519 seed.
func DecodeSeed(s string) ([]byte, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("receipt key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("receipt key: %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return seed, nil
}
