package browser

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

const page = `<!doctype html><html><head><title>probe</title></head><body>
<p id="out">before</p><button id="go" onclick="document.getElementById('out').textContent='after'">go</button>
<div style="height:1500px"></div><p>end</p></body></html>`

// TestBrowserClicksAndScreenshots drives a real Chromium on a loopback
// page: a click changes the text, and the screenshot is a PNG of the full
// page (taller than the window), written in the test's artifact directory.
func TestBrowserClicksAndScreenshots(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	defer srv.Close()
	ctx := NewWith(t, Options{Width: 640, Height: 480})

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("out")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "after" {
		t.Errorf("text after click = %q, want %q", got, "after")
	}

	path := Screenshot(t, ctx, "after click")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if cfg.Width != 640 || cfg.Height < 1500 {
		t.Errorf("screenshot %d × %d, want 640 wide and the full page (≥ 1500) tall", cfg.Width, cfg.Height)
	}
}

func TestFileName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"before", "before"},
		{"after click", "after-click"},
		{"../x/y", "---x-y"},
	} {
		if got := fileName(c.in); got != c.want {
			t.Errorf("fileName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
