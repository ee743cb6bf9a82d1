package main

import (
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

func TestChallengeIssued(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "guarded", true)
	fx.warm(t, "open", false)
	cases := []struct {
		name, path, bearer string
		want               int
	}{
		{"no jwt", "guarded", "", http.StatusUnauthorized},
		{"unknown campaign", "nope", token(t, "alice"), http.StatusNotFound},
		{"campaign without captcha", "open", token(t, "alice"), http.StatusNotFound},
		{"issued", "guarded", token(t, "alice"), http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := fx.call(t, "/v1/campaigns/"+tc.path+"/challenges", tc.bearer, nil)
			if w.Code != tc.want {
				t.Fatalf("status %d %s; want %d", w.Code, w.Body, tc.want)
			}
		})
	}
	w := fx.call(t, "/v1/campaigns/guarded/challenges", token(t, "alice"), nil)
	var fields map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &fields); err != nil || len(fields) != 3 {
		t.Fatalf("challenge %s; want exactly challenge_id, image_url, expires_at", w.Body)
	}
	ch := httpapitest.Decode[captcha.Challenge](t, w)
	if ch.ID == "" || !strings.HasPrefix(ch.ImageURL, "http") || time.Until(ch.ExpiresAt) <= 0 {
		t.Fatalf("challenge %+v; want id, image URL and a future expiry", ch)
	}
}

// The image behind a challenge is a PNG fetched from MinIO through its
// presigned URL, a different one for each challenge, and the answer is
// in neither the body nor the URL's object name.
func TestChallengeImageServed(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "guarded", true)
	answers, err := fx.bank.Answers(context.Background(), "guarded")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, user := range []string{"alice", "bob", "carol"} {
		w := fx.call(t, "/v1/campaigns/guarded/challenges", token(t, user), nil)
		ch := httpapitest.Decode[captcha.Challenge](t, w)
		entry := captcha.EntryOf(ch.ImageURL)
		if seen[entry] || strings.Contains(w.Body.String(), `"`+answers[entry]+`"`) || strings.Contains(entry, answers[entry]) {
			t.Fatalf("challenge %s: entry %s shared or answer %s shown", w.Body, entry, answers[entry])
		}
		seen[entry] = true
		resp, err := http.Get(ch.ImageURL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = png.Decode(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d, decode: %v", ch.ImageURL, resp.StatusCode, err)
		}
	}
}

func claimWith(id, answer string) map[string]any {
	return map[string]any{"sku": "cup", "qty": 1, "challenge_id": id, "answer": answer}
}

// The same right answer sent 16 times at once: one claim accepted, the
// others told the challenge is gone, one event published.
func TestCaptchaUsedTwiceAcceptedOnce(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "guarded", true)
	id, answer := fx.challenge(t, "guarded", "alice")
	var accepted, gone atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := fx.call(t, "/v1/campaigns/guarded/claims", token(t, "alice"), claimWith(id, answer))
			switch {
			case w.Code == http.StatusAccepted:
				accepted.Add(1)
			case w.Code == http.StatusGone && httpapitest.ErrorCode(w) == "challenge_gone":
				gone.Add(1)
			default:
				t.Errorf("claim: %d %s", w.Code, w.Body)
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 1 || gone.Load() != 15 {
		t.Fatalf("%d accepted, %d gone; want 1 and 15", accepted.Load(), gone.Load())
	}
	if n, c := len(fx.sink.Events()), fx.claimKeys(t); n != 1 || c != 1 {
		t.Fatalf("%d events, %d claims; want 1 each", n, c)
	}
}

func TestCaptchaRejections(t *testing.T) {
	cases := []struct {
		name string
		cfg  captcha.Config
		// answer turns the right answer into the one sent, after a wait.
		user   string
		answer func(string) string
		wait   time.Duration
		want   int
		code   string
	}{
		{"wrong answer", captcha.Config{}, "alice", func(a string) string { return a + "0" }, 0, 400, "wrong_answer"},
		{"another user's challenge", captcha.Config{}, "mallory", func(a string) string { return a }, 0, 410, "challenge_gone"},
		{"answered too soon", captcha.Config{MinAge: time.Minute}, "alice", func(a string) string { return a }, 0, 400, "answer_too_soon"},
		{"expired", captcha.Config{TTL: 50 * time.Millisecond}, "alice", func(a string) string { return a }, 100 * time.Millisecond, 410, "challenge_expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, tc.cfg)
			fx.warm(t, "guarded", true)
			id, answer := fx.challenge(t, "guarded", "alice")
			time.Sleep(tc.wait)
			w := fx.call(t, "/v1/campaigns/guarded/claims", token(t, tc.user), claimWith(id, tc.answer(answer)))
			if w.Code != tc.want || httpapitest.ErrorCode(w) != tc.code {
				t.Fatalf("status %d %s; want %d %s", w.Code, w.Body, tc.want, tc.code)
			}
			if n, c := len(fx.sink.Events()), fx.claimKeys(t); n != 0 || c != 0 {
				t.Fatalf("%d events, %d claims; want none", n, c)
			}
		})
	}
}

// A wrong answer uses the challenge up: the right one afterwards fails.
func TestWrongAnswerBurnsChallenge(t *testing.T) {
	fx := newFixture(t, captcha.Config{})
	fx.warm(t, "guarded", true)
	id, answer := fx.challenge(t, "guarded", "alice")
	fx.call(t, "/v1/campaigns/guarded/claims", token(t, "alice"), claimWith(id, "x"))
	w := fx.call(t, "/v1/campaigns/guarded/claims", token(t, "alice"), claimWith(id, answer))
	if w.Code != http.StatusGone {
		t.Fatalf("right answer after a wrong one: %d %s; want 410", w.Code, w.Body)
	}
}
