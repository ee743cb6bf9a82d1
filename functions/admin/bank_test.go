package main

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/surgekit/surge/shared/captcha"
	"github.com/surgekit/surge/shared/httpapi/httpapitest"
)

// objects lists the keys in the fixture's bucket.
func (fx *fixture) objects(t *testing.T) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(fx.s3, &s3.ListObjectsV2Input{Bucket: aws.String(fx.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func (fx *fixture) bank(t *testing.T, id string) BankAnswers {
	t.Helper()
	w := fx.call(t, http.MethodGet, "/v1/campaigns/"+id+"/challenge-bank", adminToken, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("challenge-bank: %d %s", w.Code, w.Body)
	}
	return httpapitest.Decode[BankAnswers](t, w)
}

// Warm-up renders the bank once, sized from the campaign, under random
// object names; a second warm-up finds it and renders nothing.
func TestWarmupRendersBankOnce(t *testing.T) {
	fx := newFixture(t)
	body := sale("double11")
	body["expected_crowd"] = 300
	fx.mustCreate(t, body)
	first := fx.warmup(t, "double11")
	if first.ChallengeBank == nil || !first.ChallengeBank.Rendered || first.ChallengeBank.Size != 300 {
		t.Fatalf("first warm-up bank %+v; want 300 rendered", first.ChallengeBank)
	}
	objects := fx.objects(t)
	name := regexp.MustCompile(`^captcha/double11/[0-9a-f]{32}\.png$`)
	answers := fx.bank(t, "double11").Answers
	if len(objects) != 300 || len(answers) != 300 {
		t.Fatalf("%d objects, %d answers; want 300 each", len(objects), len(answers))
	}
	for _, k := range objects {
		if !name.MatchString(k) {
			t.Fatalf("object %q; want captcha/double11/<128-bit hex>.png", k)
		}
		if _, ok := answers[captcha.EntryOf(k)]; !ok {
			t.Fatalf("object %q has no answer", k)
		}
	}
	second := fx.warmup(t, "double11")
	if second.ChallengeBank == nil || second.ChallengeBank.Rendered || second.ChallengeBank.Size != 300 {
		t.Fatalf("second warm-up bank %+v; want the 300 already there", second.ChallengeBank)
	}
	if n := len(fx.objects(t)); n != 300 {
		t.Fatalf("%d objects after a second warm-up; want 300", n)
	}
}

// Without expected_crowd the bank is sized from the stock; without
// captcha there is none.
func TestWarmupBankSize(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("sized"))
	if got := fx.warmup(t, "sized").ChallengeBank; got == nil || got.Size != captcha.BankSize(0, 13) {
		t.Fatalf("bank %+v; want %d entries", got, captcha.BankSize(0, 13))
	}
	plain := sale("plain")
	plain["captcha"] = false
	fx.mustCreate(t, plain)
	if got := fx.warmup(t, "plain").ChallengeBank; got != nil {
		t.Fatalf("bank %+v for a campaign without captcha; want none", got)
	}
}

func TestChallengeBankIsAdminOnly(t *testing.T) {
	fx := newFixture(t)
	fx.mustCreate(t, sale("double11"))
	for _, bearer := range []string{"", "not-the-token"} {
		if w := fx.call(t, http.MethodGet, "/v1/campaigns/double11/challenge-bank", bearer, nil); w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Fatalf("bearer %q: %d %s; want 401 or 403", bearer, w.Code, w.Body)
		}
	}
	if w := fx.call(t, http.MethodGet, "/v1/campaigns/nope/challenge-bank", adminToken, nil); w.Code != http.StatusNotFound {
		t.Fatalf("unknown campaign: %d; want 404", w.Code)
	}
}
