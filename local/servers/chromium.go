package servers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// chromiumPackage is Debian's chromium, installed when no Chromium or
// Chrome is found.
var chromiumPackage = aptPackage{
	name: "chromium",
	find: findChromium,
	missing: errors.New("no Chromium found (chromium, chromium-headless-shell, google-chrome on PATH or in /usr/bin, /usr/local/bin): " +
		"install it (Debian/Ubuntu: apt-get install chromium), or set SURGE_CHROMIUM to a Chromium or Chrome binary"),
}

// chromiumNames are the programs that can run the browser tests, best first.
var chromiumNames = []string{"chromium", "chromium-headless-shell", "headless_shell", "google-chrome", "google-chrome-stable", "chromium-browser", "chrome"}

// Chromium finds a Chromium or Chrome binary for headless browser tests:
// $SURGE_CHROMIUM when set, else the first of chromium,
// chromium-headless-shell and google-chrome found, else Debian's chromium
// installed with apt-get once (as root, or through sudo -n), as
// redis-server is.
func Chromium(ctx context.Context, env func(string) string, log *slog.Logger) (string, error) {
	if bin := env("SURGE_CHROMIUM"); bin != "" {
		if p, ok := findProgram([]string{bin}); ok {
			return p, nil
		}
		return "", fmt.Errorf("chromium: SURGE_CHROMIUM=%s is not an executable", bin)
	}
	bin, err := chromiumPackage.installed(ctx, orDiscard(log))
	if err != nil {
		return "", fmt.Errorf("chromium: %w", err)
	}
	return bin, nil
}

func findChromium() (string, bool) {
	return findProgram(chromiumNames, "/usr/bin", "/usr/local/bin", "/opt/google/chrome")
}
