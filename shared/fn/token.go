package fn

import (
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// TokenRefresh is how long a Sink uses a token read from its file before it
// reads the file again. Knative rewrites the token well before it expires.
const TokenRefresh = 30 * time.Second

// tokenFile is a bearer token kept in a file that its owner rotates.
type tokenFile struct {
	path string
	now  func() time.Time
	last atomic.Pointer[tokenRead]
}

type tokenRead struct {
	token string
	at    time.Time
}

// token is the file's content, trimmed, read at most once per TokenRefresh;
// "" while the file is missing or unreadable. Goroutines that find the
// last read stale at once may each read the file: harmless.
func (f *tokenFile) token() string {
	now := f.now()
	if r := f.last.Load(); r != nil && now.Sub(r.at) < TokenRefresh {
		return r.token
	}
	r := &tokenRead{at: now}
	if data, err := os.ReadFile(f.path); err == nil {
		r.token = strings.TrimSpace(string(data))
	}
	f.last.Store(r)
	return r.token
}
