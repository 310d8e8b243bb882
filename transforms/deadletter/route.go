package deadletter

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function2x1[context.Context, schemas.DeadLetter, error](failUndeliverable)
}

// Sink writes dead letters somewhere and returns, as dead letters, those it refused
// (PCollection<schemas.DeadLetter>), or a zero beam.PCollection when it never refuses one (a
// failed write fails its bundle instead).
type Sink func(s beam.Scope, dead beam.PCollection) beam.PCollection

// Sinks are where Route sends dead letters. The pipeline builds them from its outputs (the
// dead_letters table, in BigQuery or as files; a Pub/Sub topic); Route decides what goes where.
type Sinks struct {
	// Table receives every dead letter (required).
	Table Sink
	// Topic, when set, receives every dead letter too (a subscription's backlog shows failures
	// within minutes) and those the table refused.
	Topic Sink
}

// Route is the one place failures go, as Benthos' fallback output routes for every output:
// every step's dead letters go to the table and, when set, the topic; what the table refuses goes
// to the topic; what nothing can take fails its bundle, so the runner retries it rather than
// losing it. (A dead letter the topic refuses but the table took is only counted, by the topic
// sink.) It returns every dead letter given to it, flattened. It panics without a Table sink or
// without dead letters.
//
// Route: PCollection<schemas.DeadLetter>... -> PCollection<schemas.DeadLetter>
func Route(s beam.Scope, sinks Sinks, dead ...beam.PCollection) beam.PCollection {
	s = s.Scope("deadletter.Route")
	if sinks.Table == nil {
		panic("deadletter.Route: no Table sink")
	}
	if len(dead) == 0 {
		panic("deadletter.Route: no dead letters")
	}
	all := dead[0]
	if len(dead) > 1 {
		all = beam.Flatten(s, dead...)
	}
	undeliverable := sinks.Table(s.Scope("table"), all)
	if sinks.Topic != nil {
		sinks.Topic(s.Scope("topic"), all)
		if undeliverable.IsValid() {
			undeliverable = sinks.Topic(s.Scope("topic_fallback"), undeliverable)
		}
	}
	if undeliverable.IsValid() {
		beam.ParDo0(s, failUndeliverable, undeliverable)
	}
	return all
}

// failUndeliverable fails the bundle: a dead letter that no sink took must not vanish. The error
// names the message id, step and reason, never the payload or the sink's error text.
func failUndeliverable(_ context.Context, d schemas.DeadLetter) error {
	return fmt.Errorf("deadletter.Route: the dead letter of message %q (step %s, reason %s) was refused by every sink",
		d.MessageID, d.Step, d.Reason)
}
