package main

import "testing"

func TestParseFlagsPprof(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-pprof"}, true},
	}
	for _, tt := range tests {
		cfg, err := parseFlags(tt.args)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", tt.args, err)
		}
		if cfg.Pprof != tt.want {
			t.Errorf("parseFlags(%q).Pprof = %v; want %v", tt.args, cfg.Pprof, tt.want)
		}
	}
}
