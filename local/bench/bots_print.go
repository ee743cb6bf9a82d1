package bench

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/surgekit/surge/local/crowd"
)

// printBots writes the bot step: the crowd alone and beside the bots, then
// each flood.
func printBots(w io.Writer, b *BotFlood) {
	l, c := b.Limits, b.Alone
	fmt.Fprintf(w, "\nBOT FLOOD: a crowd of %d users (open loop, %.0f arrivals/s, captcha on, %.0f%% double clicks) on %d units, alone and beside bots; limits %g/s burst %d per user, %g/s burst %d per IP\n",
		c.Users, c.Rate, 100*c.DuplicateClickRatio, c.Campaign.Stock, l.UserPerSec, l.UserBurst, l.IPPerSec, l.IPBurst)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  crowd\taccepted\taccept p50 ms\tp99\tdecide p50 ms\tp99\terrors\t")
	for _, row := range []struct {
		name string
		c    *crowd.Result
	}{{"alone", b.Alone}, {"with bots", b.WithBots}} {
		n, lat := row.c.Counts, row.c.Latency
		fmt.Fprintf(tw, "  %s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%v\t\n", row.name, acceptedShare(n), lat.Accept.P50, lat.Accept.P99,
			lat.Decide.P50, lat.Decide.P99, row.c.Errors)
	}
	_ = tw.Flush()
	for _, f := range b.Bots {
		fmt.Fprintf(w, "  %d %s (%d client IPs), offered %s clicks/s: sent %s/s (%s missed), %s admitted (bound %s), answers %s\n",
			f.Users, f.Name, f.IPs, count(f.Offered), count(f.Sent), count(float64(f.Missed)), count(float64(f.Admitted)),
			count(float64(f.Bound)), statuses(f.Statuses))
	}
	for _, c := range []*crowd.Result{b.Alone, b.WithBots} {
		for _, f := range c.Failed() {
			fmt.Fprintf(w, "  INVARIANT FAILED %s: %s\n", f.Name, f.Detail)
		}
	}
}

// acceptedShare is "1,990 of 2,100 (94.8%)": the clicks answered 202.
func acceptedShare(n crowd.Counts) string {
	share := 0.0
	if n.Clicks > 0 {
		share = 100 * float64(n.Accepted) / float64(n.Clicks)
	}
	return fmt.Sprintf("%s of %s (%.1f%%)", count(float64(n.Accepted)), count(float64(n.Clicks)), share)
}
