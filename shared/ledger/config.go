package ledger

import (
	"fmt"
	"time"
)

// Config tunes a Committer. Zero fields take the defaults.
type Config struct {
	MaxBatch     int           // orders per transaction, 500
	MaxDelay     time.Duration // wait after the first order of a batch, 2ms
	WriteTimeout time.Duration // deadline of one batch transaction, 5s
	Queue        int           // Submits buffered ahead of the loop, 2×MaxBatch
}

func (c Config) withDefaults() Config {
	if c.MaxBatch == 0 {
		c.MaxBatch = 500
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 2 * time.Millisecond
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.Queue == 0 {
		c.Queue = 2 * c.MaxBatch
	}
	return c
}

// Validate names the first setting out of range (after defaults).
func (c Config) Validate() error {
	switch {
	case c.MaxBatch < 1 || c.MaxBatch > 10000:
		return fmt.Errorf("ledger: MaxBatch %d: want 1..10000", c.MaxBatch)
	case c.MaxDelay < 0 || c.MaxDelay > time.Second:
		return fmt.Errorf("ledger: MaxDelay %v: want 0..1s", c.MaxDelay)
	case c.WriteTimeout <= 0:
		return fmt.Errorf("ledger: WriteTimeout must be positive")
	case c.Queue < 0:
		return fmt.Errorf("ledger: Queue must not be negative")
	}
	return nil
}
