// Package browser gives a test a real headless Chromium, driven with
// chromedp, and saves what it shows as screenshots in the test's output
// directory.
//
//	func TestPage(t *testing.T) {
//		ctx := browser.New(t)
//		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil { … }
//		browser.Screenshot(t, ctx, "loaded")
//	}
//
// Chromium comes from servers.Chromium: the machine's chromium,
// chromium-headless-shell or google-chrome, or Debian's chromium
// installed by apt-get when none is found (SURGE_CHROMIUM names another).
// Screenshots go to t.ArtifactDir(): kept under -outputdir when go test
// runs with -artifacts (make test does: .surge/test-output/_artifacts/),
// removed with the test otherwise.
package browser

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/surgekit/surge/local/servers"
)

// installTimeout covers apt-get update and install of chromium on a cold
// package cache.
const installTimeout = 15 * time.Minute

// Options shape the browser New starts.
type Options struct {
	Width, Height int // the window, 1000 × 800 when zero
}

// New starts a headless Chromium for t with a user-data directory of its
// own (in t.TempDir()), without the sandbox when we are root (Chromium
// refuses to run sandboxed as root), and returns the context of its first
// tab. The browser stops when t ends. The page's console lines and
// uncaught exceptions go to t.Log, so a failing page says why.
func New(t testing.TB) context.Context {
	return NewWith(t, Options{})
}

// NewWith is New with options.
func NewWith(t testing.TB, opt Options) context.Context {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop, err := Start(opt, t.TempDir(), log)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { logConsole(t, ctx) })
	t.Cleanup(func() {
		stop()
		wg.Wait()
	})
	return ctx
}

// Start is New outside a test (make bench takes a screenshot with it):
// a headless Chromium with its profile in dir, found or installed as New
// does, and the context of its first tab; stop ends the browser.
func Start(opt Options, dir string, log *slog.Logger) (tab context.Context, stop func(), err error) {
	if opt.Width == 0 || opt.Height == 0 {
		opt.Width, opt.Height = 1000, 800
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	bin, err := servers.Chromium(ctx, os.Getenv, log)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(bin, dir, opt)...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	stop = func() {
		cancelTab()
		cancelAlloc()
	}
	if err := chromedp.Do(tab); err != nil { // starts the browser, with no deadline
		stop()
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return tab, stop, nil
}

// allocatorOptions are chromedp's defaults (headless, no first run, no
// background networking: the machine may have no network at all) and
// this test's binary, profile and window.
func allocatorOptions(bin, userDataDir string, opt Options) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(opt.Width, opt.Height),
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-pings", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// logConsole copies the tab's console to t.Log until ctx ends.
func logConsole(t testing.TB, ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		t.Logf("browser console %s: %s", m.Type, m)
	}
}

// Screenshot saves a full-page PNG of ctx's tab as name.png in
// t.ArtifactDir() and returns its path. It fails t when the capture
// fails.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := Capture(ctx)
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(t.ArtifactDir(), fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// Capture returns a full-page PNG of ctx's tab, within 30 s.
func Capture(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	return png, nil
}

// fileName keeps letters, digits, '-' and '_' of name and turns the rest
// into '-'.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, name)
}
