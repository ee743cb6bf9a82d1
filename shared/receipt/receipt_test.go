package receipt

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func seed(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

func signer(t testing.TB, b byte) *Signer {
	t.Helper()
	s, err := NewSigner(seed(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sample() Receipt {
	at := time.UnixMilli(1_700_000_000_123).UTC()
	return Receipt{
		TokenID: "double11.abc", OrderNo: OrderNo("double11", "phone-x", "alice", 1),
		CampaignID: "double11", SKU: "phone-x", UserID: "alice",
		Qty: 2, Seq: 1, FirstSlot: 41, Amount: 199800,
		ReservedAt: at, PayBy: at.Add(10 * time.Minute),
	}
}

func mint(t testing.TB, s *Signer, r Receipt) string {
	t.Helper()
	tok, err := s.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s := signer(t, 1)
	want := sample()
	want.KeyID = s.KeyID()
	got, err := NewVerifier(s.Public()).Verify(mint(t, s, sample()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Verify = %+v, want %+v", got, want)
	}
}

// TestShadowIsSigned: a shadow receipt says so after verification, a real
// one is the same bytes as without the field, and the mark cannot be
// dropped from a shadow token without breaking its signature.
func TestShadowIsSigned(t *testing.T) {
	s := signer(t, 1)
	v := NewVerifier(s.Public())
	shadow := sample()
	shadow.Shadow = true
	tok := mint(t, s, shadow)
	if got, err := v.Verify(tok); err != nil || !got.Shadow {
		t.Fatalf("Verify(shadow) = %+v, %v; want Shadow", got, err)
	}
	real := sample()
	if r, sh := marshal(real), marshal(shadow); !bytes.Equal(append(r, byte(fieldShadow<<3), 1), sh) {
		t.Errorf("payloads: real %x, shadow %x; want shadow = real + the one field", r, sh)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	raw, err := encoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	unmarked := encoding.EncodeToString(raw[:len(raw)-2]) + "." + sig // the field is the payload's last two bytes
	if _, err := v.Verify(unmarked); !errors.Is(err, ErrForged) {
		t.Errorf("shadow token with the mark cut off: err = %v; want ErrForged", err)
	}
}

func TestSignIsDeterministic(t *testing.T) {
	a, b := mint(t, signer(t, 1), sample()), mint(t, signer(t, 1), sample())
	if a != b {
		t.Fatalf("two signatures of one receipt differ:\n%s\n%s", a, b)
	}
}

func TestSignRejectsIncompleteReceipt(t *testing.T) {
	r := sample()
	r.Qty = 0
	if _, err := signer(t, 1).Sign(r); err == nil {
		t.Fatal("Sign accepted qty 0")
	}
}

// tamper rewrites the payload of tok with f, keeping its signature.
func tamper(t *testing.T, tok string, f func([]byte) []byte) string {
	t.Helper()
	p, sig, _ := strings.Cut(tok, ".")
	payload, err := encoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	return encoding.EncodeToString(f(payload)) + "." + sig
}

func TestVerifyRejects(t *testing.T) {
	s, other := signer(t, 1), signer(t, 2)
	tok := mint(t, s, sample())
	p, sig, _ := strings.Cut(tok, ".")
	richer := sample()
	richer.Amount, richer.KeyID = 1, s.KeyID()
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"no dot", p, ErrMalformed},
		{"truncated signature", p + "." + sig[:len(sig)-4], ErrMalformed},
		{"truncated payload", p[:len(p)/2] + "." + sig, ErrMalformed},
		{"three parts", tok + ".x", ErrMalformed},
		{"padded", p + "=." + sig, ErrMalformed},
		{"not base64", "!!." + sig, ErrMalformed},
		{"garbage protobuf", encoding.EncodeToString([]byte{0xff, 0xff}) + "." + sig, ErrMalformed},
		{"tampered user", tamper(t, tok, func(b []byte) []byte { return bytes.Replace(b, []byte("alice"), []byte("mally"), 1) }), ErrForged},
		{"tampered amount", encoding.EncodeToString(marshal(richer)) + "." + sig, ErrForged},
		{"tampered signature", p + "." + flip(sig), ErrForged},
		{"wrong key", mint(t, other, sample()), ErrForged},
	}
	v := NewVerifier(s.Public())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestVerifierTrustsSeveralKeys(t *testing.T) {
	old, cur := signer(t, 1), signer(t, 2)
	v := NewVerifier(old.Public(), cur.Public())
	for _, s := range []*Signer{old, cur} {
		if _, err := v.Verify(mint(t, s, sample())); err != nil {
			t.Errorf("key %s: Verify = %v, want nil", s.KeyID(), err)
		}
	}
	if got := len(v.PublicKeys().Keys); got != 2 {
		t.Fatalf("PublicKeys lists %d keys, want 2", got)
	}
}

func TestPublicKeysIsJWKShaped(t *testing.T) {
	s := signer(t, 1)
	got := NewVerifier(s.Public()).PublicKeys().Keys[0]
	x, err := encoding.DecodeString(got.X)
	if err != nil || !bytes.Equal(x, s.Public()) {
		t.Fatalf("x = %q does not decode to the public key (err %v)", got.X, err)
	}
	if got.KeyID != s.KeyID() || got.Type != "OKP" || got.Curve != "Ed25519" || len(got.KeyID) != 16 {
		t.Fatalf("key = %+v, want kid %s, kty OKP, crv Ed25519", got, s.KeyID())
	}
}

func TestDecodeSeed(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", true},
		{"AQEB", false},
		{"not base64!", false},
	}
	for _, tt := range tests {
		if _, err := DecodeSeed(tt.in); (err == nil) != tt.ok {
			t.Errorf("DecodeSeed(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

func TestOrderNo(t *testing.T) {
	if got, want := OrderNo("double11", "phone-x", "u1", 3), "double11:phone-x:u1:3"; got != want {
		t.Fatalf("OrderNo = %q, want %q", got, want)
	}
}

func BenchmarkSign(b *testing.B) {
	s := signer(b, 1)
	r := sample()
	for b.Loop() {
		if _, err := s.Sign(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := signer(b, 1)
	tok := mint(b, s, sample())
	v := NewVerifier(s.Public())
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSlotsRoundTrip: a receipt holding slots that are not a range signs
// and verifies them; one holding a range has the bytes it always had.
func TestSlotsRoundTrip(t *testing.T) {
	s := signer(t, 9)
	r := sample()
	plain := mint(t, s, r)
	r.Slots = []int{41, 97}
	got, err := NewVerifier(s.Public()).Verify(mint(t, s, r))
	if err != nil || !reflect.DeepEqual(got.Slots, []int{41, 97}) {
		t.Fatalf("Verify = %+v, %v; want slots [41 97]", got, err)
	}
	if again := mint(t, s, sample()); again != plain {
		t.Error("a range receipt's token changed")
	}
	for _, bad := range [][]int{{41}, {40, 97}, {41, 0}} {
		r.Slots = bad
		if _, err := s.Sign(r); err == nil {
			t.Errorf("Sign with slots %v: nil error; want refused", bad)
		}
	}
}
