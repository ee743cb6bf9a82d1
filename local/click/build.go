package click

import (
	"net/netip"
	"net/url"
	"strconv"
)

// Build lays out one POST per bearer token: path on host, a JSON body,
// keep-alive. The bytes are what goes on the wire, so sending one costs a
// write and nothing else.
func Build(base, path string, tokens []string, body []byte) ([][]byte, error) {
	return build(base, "POST "+path, "\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body)), tokens, body)
}

// BuildGet lays out one GET of path per bearer token, as Build does.
func BuildGet(base, path string, tokens []string) ([][]byte, error) {
	return build(base, "GET "+path, "", tokens, nil)
}

// build lays out each request: the request line, Host, the headers given,
// Authorization with each token, and body.
func build(base, line, headers string, tokens []string, body []byte) ([][]byte, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	head := line + " HTTP/1.1\r\nHost: " + u.Host + headers + "\r\nAuthorization: Bearer "
	size := len(head) + len("\r\n\r\n") + len(body)
	out := make([][]byte, len(tokens))
	for i, tok := range tokens {
		b := make([]byte, 0, size+len(tok))
		b = append(b, head...)
		b = append(b, tok...)
		b = append(b, "\r\n\r\n"...)
		out[i] = append(b, body...)
	}
	return out, nil
}

// Loopback is n consecutive addresses from first (127.0.1.1, …): on Linux
// every address of 127.0.0.0/8 is the loopback device's, so a client that
// dials from one (Config.Sources) is a client IP of its own to the server.
func Loopback(first string, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	a := netip.MustParseAddr(first)
	for i := range out {
		out[i], a = a, a.Next()
	}
	return out
}
