package click

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// worker is one keep-alive connection and what was seen on it.
type worker struct {
	addr    string
	source  netip.Addr // the local address to dial from; invalid: any
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
	seen    tally
}

// loop sends one request after the other, as long as next has one.
func (w *worker) loop(next func() ([]byte, bool)) tally {
	for {
		req, ok := next()
		if !ok {
			return w.seen
		}
		t0 := time.Now()
		a, err := w.send(req)
		w.seen.record(a, time.Since(t0), err)
	}
}

// answer is what send saw of a response: its status and whether a
// refusal (429, 503) said when to retry, in seconds and in milliseconds.
type answer struct {
	status int
	hinted bool
}

// send writes req on the connection (dialled when there is none) and reads
// the whole answer; a connection that failed or that the server closes is
// dropped, to be dialled again by the next request.
func (w *worker) send(req []byte) (answer, error) {
	if w.conn == nil {
		if err := w.dial(); err != nil {
			return answer{}, err
		}
	}
	_ = w.conn.SetDeadline(time.Now().Add(w.timeout))
	if _, err := w.conn.Write(req); err != nil {
		w.close()
		return answer{}, fmt.Errorf("click: write: %w", err)
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		w.close()
		return answer{}, fmt.Errorf("click: read: %w", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.Close {
		w.close()
	}
	if err != nil {
		return answer{}, fmt.Errorf("click: read body: %w", err)
	}
	return answer{status: resp.StatusCode, hinted: resp.Header.Get("Retry-After") != "" && resp.Header.Get("Retry-After-Ms") != ""}, nil
}

func (w *worker) dial() error {
	d := net.Dialer{Timeout: w.timeout}
	if w.source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: w.source.AsSlice()}
	}
	c, err := d.Dial("tcp", w.addr)
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
