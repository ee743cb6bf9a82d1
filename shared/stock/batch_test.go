package stock_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/surgekit/surge/shared/campaign"
	"github.com/surgekit/surge/shared/stock"
)

// TestDeductBatchDecidesLikeDeduct runs the same claims through Deduct on
// one campaign and DeductBatch on another, the script flushed first so the
// batch takes the NOSCRIPT path, and wants the very same decisions.
func TestDeductBatchDecidesLikeDeduct(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	now := start.Add(time.Minute)
	users := []string{"alice", "bob", "alice", "carol", "dave"} // alice twice: limit reached
	var one, many []stock.Request
	for i, u := range users {
		one = append(one, req("one", uniqueOf(i), u, "phone", 1, now))
		many = append(many, req("many", uniqueOf(i), u, "phone", 1, now))
	}
	for _, id := range []string{"one", "many"} {
		f.warm(t, sale(id, 1, campaign.Item{SKU: "phone", Stock: 3}), nil)
	}
	got, err := f.d.DeductBatch(ctx, many)
	if err != nil {
		t.Fatalf("DeductBatch: %v", err)
	}
	if len(got) != len(many) {
		t.Fatalf("DeductBatch returned %d decisions; want %d", len(got), len(many))
	}
	for i, r := range one {
		if want := f.deduct(t, r); !reflect.DeepEqual(got[i], want) {
			t.Errorf("claim %d (%s): batch decided %+v; Deduct decided %+v", i, r.UserID, got[i], want)
		}
	}
	again, err := f.d.DeductBatch(ctx, many)
	for i := range again {
		if again[i].New {
			t.Errorf("claim %d decided again: New is true; want false for a recorded decision", i)
		}
		again[i].New = true
	}
	if err != nil || len(again) != len(got) || !reflect.DeepEqual(again, got) {
		t.Errorf("DeductBatch again = %+v, %v; want the recorded %+v", again, err, got)
	}
}

func TestDeductBatchRejectsBadRequest(t *testing.T) {
	f := newFixture(t)
	r := req("x", "1", "alice", "phone", 0, start)
	if _, err := f.d.DeductBatch(context.Background(), []stock.Request{r}); !errors.Is(err, stock.ErrBadRequest) {
		t.Errorf("DeductBatch with qty 0: err = %v; want ErrBadRequest", err)
	}
}

func uniqueOf(i int) string { return "c" + string(rune('a'+i)) }
