// Package clientip tells a request's client address: the peer, or the
// first hop of X-Forwarded-For when the peer is a proxy trusted to set it.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver knows which peers are trusted proxies.
type Resolver struct{ trusted []netip.Prefix }

// loopback is trusted by default: the local gateway runs on the same host.
var loopback = []string{"127.0.0.0/8", "::1/128"}

// New trusts loopback and the comma-separated CIDRs of cidrs
// (SURGE_TRUSTED_PROXIES; a bare address is one host).
func New(cidrs string) (Resolver, error) {
	var r Resolver
	for _, s := range append(loopback, strings.Split(cidrs, ",")...) {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return Resolver{}, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		r.trusted = append(r.trusted, p)
	}
	return r, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// IP is the client address of r, as text. The first hop of
// X-Forwarded-For counts only when the peer is trusted and it parses.
func (res Resolver) IP(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if res.trusts(peer) {
		if hop, ok := firstHop(r.Header.Get("X-Forwarded-For")); ok {
			return hop.String()
		}
	}
	return peer.String()
}

func (res Resolver) trusts(a netip.Addr) bool {
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func firstHop(xff string) (netip.Addr, bool) {
	first, _, _ := strings.Cut(xff, ",")
	a, err := netip.ParseAddr(strings.TrimSpace(first))
	return a.Unmap(), err == nil
}
