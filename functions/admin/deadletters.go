package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/surgekit/surge/shared/deadletter"
	"github.com/surgekit/surge/shared/httpapi"
)

// Publisher sends an event to the broker (fn.Sink, K_SINK).
type Publisher interface {
	Send(ctx context.Context, e event.Event) error
}

// defaultLimit is how many dead letters a call lists or redrives unless
// it names a limit.
const defaultLimit = 100

var errLetterNotFound = httpapi.Errorf(http.StatusNotFound, "dead_letter_not_found", "no such dead letter")

// deadLetters: GET /v1/dead-letters (admin) → 200 {dead_letters, next_cursor}:
// the letters the filter selects, by id; next_cursor, when more may follow,
// is the cursor of the next page.
func (f *Function) deadLetters(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	letters, next, err := f.list(ctx, r)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, page{Letters: nonNil(letters), Next: next})
}

// list reads the page of dead letters r's filter selects, and the cursor
// of the next page ("" after the last).
func (f *Function) list(ctx context.Context, r *http.Request) ([]deadletter.Letter, string, error) {
	filter, err := parseFilter(r.URL.Query())
	if err != nil {
		return nil, "", err
	}
	letters, err := f.d.Letters.List(ctx, filter)
	return letters, nextCursor(letters, filter.Limit), err
}

type page struct {
	Letters []deadletter.Letter `json:"dead_letters"`
	Next    string              `json:"next_cursor,omitempty"`
}

// redriveOne: POST /v1/dead-letters/{id}/redrive (admin) → 200 the letter
// as recorded after its event was republished; 404 for an unknown id.
func (f *Function) redriveOne(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		f.fail(w, r, errLetterNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	l, err := f.d.Letters.Get(ctx, id)
	if errors.Is(err, deadletter.ErrNotFound) {
		err = errLetterNotFound
	}
	if err == nil {
		l, err = f.redrive(ctx, l)
	}
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, l)
}

// redriveMany: POST /v1/dead-letters/redrive (admin), with the filter of
// the listing → 200 {redriven, next_cursor}: every letter of one page of
// that filter republished, in order; next_cursor, when more may follow,
// redrives the next page. The first failure stops it (502 when the broker
// refused): the letters before it are recorded redriven, so the operator
// sees in the listing where it stopped.
func (f *Function) redriveMany(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	letters, next, err := f.list(ctx, r)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	for _, l := range letters {
		if err := f.redriveWithin(r.Context(), l); err != nil {
			f.fail(w, r, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, struct {
		Redriven int    `json:"redriven"`
		Next     string `json:"next_cursor,omitempty"`
	}{len(letters), next})
}

// redriveWithin redrives l under a deadline of its own: a page of a
// thousand letters takes longer than one call's.
func (f *Function) redriveWithin(ctx context.Context, l deadletter.Letter) error {
	ctx, cancel := context.WithTimeout(ctx, f.d.Timeout)
	defer cancel()
	_, err := f.redrive(ctx, l)
	return err
}

// redrive republishes l's event, then records it: a redrive the record
// misses is harmless (the event is idempotent downstream), a record of a
// redrive that never was is not.
func (f *Function) redrive(ctx context.Context, l deadletter.Letter) (deadletter.Letter, error) {
	e, err := l.Redrive()
	if err != nil {
		return l, err
	}
	if err := f.d.Sink.Send(ctx, e); err != nil {
		return l, httpapi.Errorf(http.StatusBadGateway, "broker_unavailable", "dead letter %d not redriven: %v", l.ID, err)
	}
	return f.d.Letters.MarkRedriven(ctx, l.ID, f.d.Now())
}

// parseFilter reads type, campaign, since and until (RFC 3339), limit
// (1..1000, 100 by default) and cursor; anything malformed is 400.
func parseFilter(q url.Values) (deadletter.Filter, error) {
	f := deadletter.Filter{Type: q.Get("type"), Campaign: q.Get("campaign"), Limit: defaultLimit}
	var err error
	if f.Since, err = parseTime(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = parseTime(q, "until"); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > deadletter.MaxLimit {
			return f, badFilter("limit must be 1..%d", deadletter.MaxLimit)
		}
	}
	if v := q.Get("cursor"); v != "" {
		if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After < 0 {
			return f, badFilter("cursor %q is not one this API gave", v)
		}
	}
	return f, nil
}

func parseTime(q url.Values, name string) (*time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, badFilter("%s must be an RFC 3339 time", name)
	}
	return &t, nil
}

func badFilter(format string, args ...any) error {
	return httpapi.Errorf(http.StatusBadRequest, "invalid_filter", format, args...)
}

// nextCursor is the cursor after a full page, "" after a short one.
func nextCursor(letters []deadletter.Letter, limit int) string {
	if len(letters) < limit || len(letters) == 0 {
		return ""
	}
	return fmt.Sprint(letters[len(letters)-1].ID)
}

func nonNil(l []deadletter.Letter) []deadletter.Letter {
	if l == nil {
		return []deadletter.Letter{}
	}
	return l
}
