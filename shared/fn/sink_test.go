package fn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/surgekit/surge/shared/fn"
)

// authorizations is a broker that keeps the Authorization header of every
// event it is sent.
func authorizations(t *testing.T) (url string, got func() []string) {
	t.Helper()
	ch := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch <- r.Header.Get("Authorization")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		var all []string
		for len(ch) > 0 {
			all = append(all, <-ch)
		}
		return all
	}
}

func TestSinkSendsTheMountedToken(t *testing.T) {
	dir := t.TempDir()
	mounted := filepath.Join(dir, "token")
	if err := os.WriteFile(mounted, []byte("eyJhbGciOiJSUzI1NiJ9.oidc.sig\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []fn.SinkOption
		want string
	}{
		{"token file", []fn.SinkOption{fn.WithTokenFile(mounted)}, "Bearer eyJhbGciOiJSUzI1NiJ9.oidc.sig"},
		{"token file not mounted", []fn.SinkOption{fn.WithTokenFile(filepath.Join(dir, "absent"))}, ""},
		{"no token file", []fn.SinkOption{fn.WithTokenFile("")}, ""},
		{"no option", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, got := authorizations(t)
			s, err := fn.NewSink(url, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), input()); err != nil {
				t.Fatal(err)
			}
			if h := got(); len(h) != 1 || h[0] != tt.want {
				t.Errorf("Authorization = %q, want [%q]", h, tt.want)
			}
		})
	}
}
