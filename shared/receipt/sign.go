package receipt

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// encoding is base64url without padding, strict so one token has one
// spelling.
var encoding = base64.RawURLEncoding.Strict()

// Signer mints tokens with one Ed25519 key.
type Signer struct {
	key   ed25519.PrivateKey
	keyID string
}

// NewSigner returns a Signer for a 32-byte Ed25519 seed.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("receipt signer: seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	return &Signer{key: key, keyID: KeyID(key.Public().(ed25519.PublicKey))}, nil
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// KeyID is the id of the signing key.
func (s *Signer) KeyID() string { return s.keyID }

// Public is the key that verifies this signer's tokens.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns the token for r, with r.KeyID set to the signer's key id.
// Equal receipts give byte-identical tokens.
func (s *Signer) Sign(r Receipt) (string, error) {
	r.KeyID = s.keyID
	if err := r.validate(); err != nil {
		return "", fmt.Errorf("sign receipt %s: %w", r.TokenID, err)
	}
	payload := marshal(r)
	sig := ed25519.Sign(s.key, payload)
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(sig), nil
}

// Verifier checks tokens against a set of public keys, by key id, so keys
// can be rotated: verify with the old and new key while signing with the
// new one.
type Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewVerifier returns a Verifier trusting keys.
func NewVerifier(keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{keys: make(map[string]ed25519.PublicKey, len(keys))}
	for _, k := range keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

// Verify returns the receipt a token carries: ErrMalformed when it is not a
// token, ErrForged when its key is unknown or its signature is wrong.
func (v *Verifier) Verify(token string) (Receipt, error) {
	payload, sig, err := split(token)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r, err := unmarshal(payload)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	key, ok := v.keys[r.KeyID]
	if !ok {
		return Receipt{}, fmt.Errorf("%w: unknown key %q", ErrForged, r.KeyID)
	}
	if !ed25519.Verify(key, payload, sig) {
		return Receipt{}, fmt.Errorf("%w: bad signature", ErrForged)
	}
	return r, nil
}

// split decodes the two parts of a token.
func split(token string) (payload, sig []byte, err error) {
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return nil, nil, fmt.Errorf("no '.'")
	}
	if payload, err = encoding.DecodeString(p); err != nil {
		return nil, nil, fmt.Errorf("payload: %w", err)
	}
	if sig, err = encoding.DecodeString(s); err != nil {
		return nil, nil, fmt.Errorf("signature: %w", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, nil, fmt.Errorf("signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	return payload, sig, nil
}
