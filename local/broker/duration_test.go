package broker

import (
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "PT0.2S", want: 200 * time.Millisecond},
		{in: "PT1S", want: time.Second},
		{in: "PT10S", want: 10 * time.Second},
		{in: "PT1M", want: time.Minute},
		{in: "PT1.5M", want: 90 * time.Second},
		{in: "PT2H", want: 2 * time.Hour},
		{in: "PT1H30M5S", want: time.Hour + 30*time.Minute + 5*time.Second},
		{in: "P1D", want: 24 * time.Hour},
		{in: "P1DT1S", want: 24*time.Hour + time.Second},
		{in: "PT0S", want: 0},
		{in: "", wantErr: true},
		{in: "P", wantErr: true},
		{in: "PT", wantErr: true},
		{in: "P1DT", wantErr: true},
		{in: "1S", wantErr: true},
		{in: "PT1", wantErr: true},
		{in: "PTS", wantErr: true},
		{in: "P1M", wantErr: true}, // months are ambiguous
		{in: "P1Y", wantErr: true},
		{in: "PT1S1S", wantErr: true},
		{in: "PT-1S", wantErr: true},
		{in: "PT1..2S", wantErr: true},
		{in: "pt1s", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseISODuration(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseISODuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
