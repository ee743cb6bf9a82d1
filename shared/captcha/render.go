package captcha

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	dchest "github.com/dchest/captcha"
)

// Size of a rendered challenge: six digits on the library's standard
// 240×80 noisy image.
const (
	answerDigits = 6
	imageWidth   = dchest.StdWidth
	imageHeight  = dchest.StdHeight
)

// entry is one rendered bank entry: its id, answer and PNG image.
type entry struct {
	id     string
	answer string
	png    []byte
}

// render draws a fresh entry with random digits.
func render() (entry, error) {
	id, err := entryID()
	if err != nil {
		return entry{}, err
	}
	digits, err := randomDigits(answerDigits)
	if err != nil {
		return entry{}, err
	}
	var buf bytes.Buffer
	if _, err := dchest.NewImage(id, digits, imageWidth, imageHeight).WriteTo(&buf); err != nil {
		return entry{}, fmt.Errorf("render challenge: %w", err)
	}
	answer := make([]byte, len(digits))
	for i, d := range digits {
		answer[i] = '0' + d
	}
	return entry{id: id, answer: string(answer), png: buf.Bytes()}, nil
}

// entryID is 128 random bits in hex.
func entryID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("bank entry id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// randomDigits returns n uniform digits 0–9 from crypto/rand (rejecting
// bytes ≥ 250 keeps them uniform).
func randomDigits(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("challenge digits: %w", err)
		}
		for _, b := range buf {
			if b < 250 && len(out) < n {
				out = append(out, b%10)
			}
		}
	}
	return out, nil
}
