package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestIP(t *testing.T) {
	cases := []struct {
		name, trusted, remote, xff, want string
	}{
		{"peer, no header", "", "203.0.113.7:5000", "", "203.0.113.7"},
		{"untrusted peer ignores the header", "", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"loopback trusted by default", "", "127.0.0.1:5000", "198.51.100.1", "198.51.100.1"},
		{"ipv6 loopback", "", "[::1]:5000", "198.51.100.1", "198.51.100.1"},
		{"first hop of several", "", "127.0.0.1:5000", "198.51.100.1, 10.0.0.1", "198.51.100.1"},
		{"trusted cidr", "10.0.0.0/8", "10.1.2.3:80", "198.51.100.2", "198.51.100.2"},
		{"trusted single host", "10.1.2.3", "10.1.2.3:80", "198.51.100.2", "198.51.100.2"},
		{"outside the cidr", "10.0.0.0/8", "11.1.2.3:80", "198.51.100.2", "11.1.2.3"},
		{"trusted peer, no header", "", "127.0.0.1:5000", "", "127.0.0.1"},
		{"garbage header falls back to the peer", "", "127.0.0.1:5000", "not-an-ip", "127.0.0.1"},
		{"mapped v4 peer", "", "[::ffff:203.0.113.7]:1", "", "203.0.113.7"},
		{"ipv6 client", "", "127.0.0.1:1", "2001:db8::1", "2001:db8::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := New(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := res.IP(r); got != tc.want {
				t.Fatalf("IP = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestNewRejectsBadCIDR(t *testing.T) {
	for _, s := range []string{"10.0.0.0/99", "nope", "10.0.0.0/8,bad"} {
		if _, err := New(s); err == nil {
			t.Errorf("New(%q) = nil error; want one", s)
		}
	}
}
