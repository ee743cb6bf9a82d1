package main

import (
	"context"
	_ "embed"
	"net/http"
	"strings"

	"github.com/surgekit/surge/shared/auth"
	"github.com/surgekit/surge/shared/httpapi"
)

// The dashboard's two pages, self-contained (script, style and charts
// inline, nothing from a CDN, no build step).
var (
	//go:embed dashboard/dashboard.html
	dashboardPage []byte
	//go:embed dashboard/login.html
	loginPage string
)

// pageSecurity keeps the pages to themselves: their own inline script and
// style, calls to this origin only, never in a frame.
const pageSecurity = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// dashboard: GET /dashboard → the live dashboard with a valid session,
// else the login form.
func (f *Function) dashboard(w http.ResponseWriter, r *http.Request) {
	if f.sessions.check(r) != nil {
		writePage(w, http.StatusOK, []byte(login("")))
		return
	}
	writePage(w, http.StatusOK, dashboardPage)
}

// maxLoginBody bounds the login form.
const maxLoginBody = 4 << 10

// login: POST /dashboard/login (a form with the admin token) → 303 to
// /dashboard with a session cookie; a wrong token → 401 and the form
// again, no cookie.
func (f *Function) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, []byte(login("That was not a login form.")))
		return
	}
	if err := f.d.Admin.Accept(r.PostForm.Get("token")); err != nil {
		writePage(w, http.StatusUnauthorized, []byte(login("Wrong admin token.")))
		return
	}
	http.SetCookie(w, f.sessions.issue(r))
	http.Redirect(w, r, sessionPath, http.StatusSeeOther)
}

// login is the login page, with message above the form.
func login(message string) string {
	return strings.Replace(loginPage, "{{message}}", message, 1)
}

func writePage(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageSecurity)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

// session lets only a dashboard session (or the admin token) through to h.
func (f *Function) session(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f.sessions.check(r); err != nil {
			httpapi.WriteError(w, auth.HTTPError(err))
			return
		}
		h(w, r)
	}
}

// campaignList: GET /dashboard/campaigns (session) → 200
// {"campaigns": [ids]}, the dashboard's picker.
func (f *Function) campaignList(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), f.d.Timeout)
	defer cancel()
	ids, err := f.d.Campaigns.IDs(ctx)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string][]string{"campaigns": ids})
}
