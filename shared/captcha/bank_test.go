package captcha_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/captcha"
)

// Every challenge shows a PNG of its own, fetched from MinIO through the
// presigned URL with a plain GET, under a name that reveals nothing.
func TestChallengeImagesFromObjectStorage(t *testing.T) {
	f := newFixture(t, captcha.Config{})
	seenEntry, seenImage := map[string]bool{}, map[[32]byte]bool{}
	name := regexp.MustCompile(`/captcha/c1/[0-9a-f]{32}\.png\?`)
	for range 10 {
		ch, _ := f.issue(t, "c1", "alice")
		if !name.MatchString(ch.ImageURL) || !strings.Contains(ch.ImageURL, "X-Amz-Signature=") {
			t.Fatalf("image url %s; want a presigned captcha/c1/<128-bit hex>.png", ch.ImageURL)
		}
		entry := captcha.EntryOf(ch.ImageURL)
		if seenEntry[entry] {
			t.Fatalf("entry %s issued twice while held", entry)
		}
		seenEntry[entry] = true
		body := get(t, ch.ImageURL)
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("image of %s: %v", ch.ID, err)
		}
		if b := img.Bounds(); b.Dx() != 240 || b.Dy() != 80 {
			t.Fatalf("image %v; want 240×80", b)
		}
		sum := sha256.Sum256(body)
		if seenImage[sum] {
			t.Fatalf("challenge %s shows an image already shown", ch.ID)
		}
		seenImage[sum] = true
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", url, resp.StatusCode, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q; want image/png", ct)
	}
	return body
}

// The public shape holds exactly the id, the image URL and the expiry.
func TestChallengeJSONHoldsNoAnswer(t *testing.T) {
	f := newFixture(t, captcha.Config{})
	ch, answer := f.issue(t, "c1", "alice")
	raw, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields["challenge_id"] == nil || fields["image_url"] == nil || fields["expires_at"] == nil {
		t.Fatalf("challenge JSON %s; want exactly challenge_id, image_url, expires_at", raw)
	}
	if len(answer) != 6 {
		t.Fatalf("answer %q; want six digits", answer)
	}
}

// A bank lends each entry to one challenge at a time: when every entry is
// held the next issue fails, and an answer or the lease's end brings one back.
func TestBankEntriesLeased(t *testing.T) {
	f := newFixture(t, captcha.Config{MinAge: 0, TTL: time.Minute})
	ctx := context.Background()
	var first captcha.Challenge
	var firstAnswer string
	for i := range bankSize {
		ch, a := f.issue(t, "c1", "alice")
		if i == 0 {
			first, firstAnswer = ch, a
		}
	}
	if _, err := f.svc.Issue(ctx, "c1", "bob"); !errors.Is(err, captcha.ErrBankExhausted) {
		t.Fatalf("issue from a bank in use = %v; want ErrBankExhausted", err)
	}
	if err := f.svc.Answer(ctx, "c1", "alice", first.ID, firstAnswer); err != nil {
		t.Fatal(err)
	}
	back, _ := f.issue(t, "c1", "bob")
	if captcha.EntryOf(back.ImageURL) != captcha.EntryOf(first.ImageURL) {
		t.Fatalf("after an answer got entry %s; want the answered %s back", captcha.EntryOf(back.ImageURL), captcha.EntryOf(first.ImageURL))
	}
	f.clock.Add(time.Minute + 10*time.Second) // every lease ended
	for range bankSize {
		f.issue(t, "c1", "carol")
	}
}

// An entry whose lease ended and went to another user stays that user's:
// the late answer of the first is "expired" and frees nothing.
func TestLateAnswerKeepsEntryOfNextHolder(t *testing.T) {
	f := newFixture(t, captcha.Config{MinAge: 0, TTL: time.Minute})
	ctx := context.Background()
	held := make([]captcha.Challenge, 0, bankSize)
	answers := make([]string, 0, bankSize)
	for range bankSize {
		ch, a := f.issue(t, "c1", "alice")
		held, answers = append(held, ch), append(answers, a)
	}
	f.clock.Add(time.Minute + 6*time.Second)
	for range bankSize {
		f.issue(t, "c1", "bob") // takes every entry back from alice's ended leases
	}
	// alice's records are still in Redis (their expiry runs on Redis's
	// clock, the test's clock jumped), so her answers run the script.
	for i, ch := range held {
		if err := f.svc.Answer(ctx, "c1", "alice", ch.ID, answers[i]); err == nil {
			t.Fatalf("late answer accepted")
		}
	}
	if _, err := f.svc.Issue(ctx, "c1", "carol"); !errors.Is(err, captcha.ErrBankExhausted) {
		t.Fatalf("issue after late answers = %v; want ErrBankExhausted (bob holds every entry)", err)
	}
}

func TestNoBank(t *testing.T) {
	f := newFixture(t, captcha.Config{})
	if _, err := f.svc.Issue(context.Background(), "c2", "alice"); !errors.Is(err, captcha.ErrNoBank) {
		t.Fatalf("Issue without a bank = %v; want ErrNoBank", err)
	}
}

// A second warm-up finds the bank and renders nothing.
func TestWarmTwiceKeepsBank(t *testing.T) {
	f := newFixture(t, captcha.Config{})
	ctx := context.Background()
	before, err := f.bank.Answers(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.bank.Warm(ctx, "c1", 2*bankSize)
	if err != nil || st.Rendered || st.Size != bankSize {
		t.Fatalf("second Warm = %+v, %v; want size %d, not rendered", st, err, bankSize)
	}
	after, err := f.bank.Answers(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("bank of %d entries after a second warm-up; want %d", len(after), len(before))
	}
	for id, a := range before {
		if after[id] != a {
			t.Fatalf("entry %s changed", id)
		}
	}
}

func TestBankSize(t *testing.T) {
	cases := []struct{ crowd, stock, want int }{
		{0, 1, captcha.BankFloor},
		{0, 100, 100 * captcha.BankPerUnit},
		{5000, 1, 5000},
		{0, 1_000_000, captcha.BankCap},
		{10_000_000, 1, captcha.BankCap},
	}
	for _, tc := range cases {
		if got := captcha.BankSize(tc.crowd, tc.stock); got != tc.want {
			t.Errorf("BankSize(%d, %d) = %d; want %d", tc.crowd, tc.stock, got, tc.want)
		}
	}
}
