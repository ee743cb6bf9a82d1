package captcha

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Question is what a challenge asks and the one answer it accepts. The
// answer never leaves the server in clear: only its MAC is stored.
type Question struct {
	Prompt   string // text shown to the user
	ImageURL string // where the rendered image is served; empty for text questions
	Answer   string
}

// Generator makes the question of a new challenge. The text generator
// stands in for image rendering (noise images pre-rendered into S3), which
// will implement the same interface.
type Generator interface {
	Question(ctx context.Context, campaign, challengeID string) (Question, error)
}

// Arithmetic asks "a + b = ?" or "a × b = ?" with small operands.
type Arithmetic struct{}

// Question returns a fresh arithmetic question.
func (Arithmetic) Question(context.Context, string, string) (Question, error) {
	a, err := randInt(2, 20)
	if err != nil {
		return Question{}, err
	}
	b, err := randInt(2, 10)
	if err != nil {
		return Question{}, err
	}
	op, err := randInt(0, 1)
	if err != nil {
		return Question{}, err
	}
	if op == 0 {
		return Question{Prompt: fmt.Sprintf("%d + %d = ?", a, b), Answer: strconv.FormatInt(a+b, 10)}, nil
	}
	return Question{Prompt: fmt.Sprintf("%d × %d = ?", a, b), Answer: strconv.FormatInt(a*b, 10)}, nil
}

// randInt returns a uniform integer in [lo, hi] from crypto/rand.
func randInt(lo, hi int64) (int64, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(hi-lo+1))
	if err != nil {
		return 0, fmt.Errorf("captcha question: %w", err)
	}
	return lo + n.Int64(), nil
}

// Solve answers a prompt of Arithmetic, for tests and load tools (a bot
// could do the same: text questions are a placeholder for images).
func Solve(prompt string) (string, error) {
	var a, b int
	var op string
	if _, err := fmt.Sscanf(strings.TrimSpace(prompt), "%d %s %d = ?", &a, &op, &b); err != nil {
		return "", fmt.Errorf("solve %q: %w", prompt, err)
	}
	switch op {
	case "+":
		return strconv.Itoa(a + b), nil
	case "×":
		return strconv.Itoa(a * b), nil
	default:
		return "", fmt.Errorf("solve %q: unknown operator %q", prompt, op)
	}
}
