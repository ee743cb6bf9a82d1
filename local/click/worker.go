package click

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// worker is one keep-alive connection and what was seen on it.
type worker struct {
	addr    string
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
	seen    tally
}

// loop sends one request after the other until the deadline passes, take
// has no more or ctx ends.
func (w *worker) loop(ctx context.Context, deadline time.Time, take func() ([]byte, bool)) tally {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		req, ok := take()
		if !ok {
			break
		}
		t0 := time.Now()
		status, err := w.send(req)
		w.seen.record(status, time.Since(t0), err)
	}
	return w.seen
}

// send writes req on the connection (dialled when there is none) and reads
// the whole answer; a connection that failed or that the server closes is
// dropped, to be dialled again by the next request.
func (w *worker) send(req []byte) (int, error) {
	if w.conn == nil {
		if err := w.dial(); err != nil {
			return 0, err
		}
	}
	_ = w.conn.SetDeadline(time.Now().Add(w.timeout))
	if _, err := w.conn.Write(req); err != nil {
		w.close()
		return 0, fmt.Errorf("click: write: %w", err)
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		w.close()
		return 0, fmt.Errorf("click: read: %w", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.Close {
		w.close()
	}
	if err != nil {
		return 0, fmt.Errorf("click: read body: %w", err)
	}
	return resp.StatusCode, nil
}

func (w *worker) dial() error {
	c, err := net.DialTimeout("tcp", w.addr, w.timeout)
	if err != nil {
		return fmt.Errorf("click: dial: %w", err)
	}
	w.conn, w.br = c, bufio.NewReaderSize(c, 4096)
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn, w.br = nil, nil
	}
}
