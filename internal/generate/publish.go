package generate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// Stats counts the messages the server has acknowledged, by kind.
type Stats struct {
	Published, Valid, Malformed, Duplicates, Late int64
	Elapsed                                       time.Duration
}

// maxOutstanding bounds the publish results awaited at once: enough to keep the client's
// batches full, few enough that a stalled server stops the generator instead of filling memory.
const maxOutstanding = 1000

// Publish publishes the sequence Messages(cfg) to topic, at cfg.Rate messages per second if set,
// and returns when every message is acknowledged or the first publish fails. progress, if not
// nil, is called every second from another goroutine (never concurrently with itself). The
// caller owns topic and stops it.
func Publish(ctx context.Context, topic *pubsub.Publisher, cfg Config, progress func(Stats)) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var c counters
	type pending struct {
		n    int64
		kind Kind
		res  *pubsub.PublishResult
	}
	results := make(chan pending, maxOutstanding)
	var collector sync.WaitGroup
	collector.Go(func() {
		for p := range results {
			if _, err := p.res.Get(ctx); err != nil {
				cancel(fmt.Errorf("publish message %d (%s) to %s: %w", p.n, p.kind, topic, err))
				continue // drain: Get returns at once now that ctx is done
			}
			c.add(p.kind)
		}
	})
	stopProgress := make(chan struct{})
	var reporter sync.WaitGroup
	if progress != nil {
		reporter.Go(func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					progress(c.snapshot(start))
				case <-stopProgress:
					return
				}
			}
		})
	}

	var n int64
	for m := range Messages(cfg) {
		if err := pace(ctx, start, n, cfg.Rate); err != nil {
			break
		}
		res := topic.Publish(ctx, &pubsub.Message{Data: m.Data, Attributes: m.Attributes})
		select {
		case results <- pending{n, m.Kind, res}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		n++
	}
	close(results)
	collector.Wait()
	close(stopProgress)
	reporter.Wait()

	s := c.snapshot(start)
	if s.Published < cfg.Count {
		return s, fmt.Errorf("generate: stopped after %d of %d messages: %w", s.Published, cfg.Count, context.Cause(ctx))
	}
	return s, nil
}

// pace waits until message n is due at rate messages per second. It follows a schedule from
// start rather than a ticker, so rates above the timer resolution still average out right.
func pace(ctx context.Context, start time.Time, n int64, rate float64) error {
	if rate <= 0 {
		return nil
	}
	wait := time.Until(start.Add(time.Duration(float64(n) / rate * float64(time.Second))))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counters are the Stats being updated by the collector while progress reads them.
type counters struct {
	byKind [4]atomic.Int64 // indexed by Kind
}

func (c *counters) add(k Kind) {
	c.byKind[k].Add(1)
}

func (c *counters) snapshot(start time.Time) Stats {
	s := Stats{
		Valid:      c.byKind[Valid].Load(),
		Malformed:  c.byKind[Malformed].Load(),
		Duplicates: c.byKind[Duplicate].Load(),
		Late:       c.byKind[Late].Load(),
		Elapsed:    time.Since(start),
	}
	s.Published = s.Valid + s.Malformed + s.Duplicates + s.Late
	return s
}
