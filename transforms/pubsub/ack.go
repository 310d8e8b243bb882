package pubsub

// The ack design.
//
// A message is acknowledged only when two things are true: it is durably in the archive (when
// ReadConfig.Archive is set), and the bundle that emitted it is committed by the runner.
//
// Commit. Beam Go v2.77 calls bundle-finalization callbacks only for the first bundle of a plan
// (core/runtime/exec/plan.go: Plan.Finalize swaps p.bf while the ParDo units keep the original),
// so acks cannot wait for a callback. Instead the ack ids read in a round travel in the residual
// restriction (Restriction.PendingAcks): a runner schedules a residual only after the bundle that
// produced it is committed, so acking them when the residual starts (settle) is acking after
// commit. Splits at fractions other than 0 are refused (see tracker), because Prism schedules such
// a residual before the primary is committed.
//
// Archive. An id reaches a residual only once it is claimed (tracker.TryClaim), and a round
// claims nothing before its messages are written to the write-ahead log (readFn.archive): one
// file per publish-time hour, closed and synced or a finished object. So whichever way the round
// ends (the reader's own checkpoint, or a runner's split in the middle of the claims), every id
// it hands on is archived. Beam does not promise that a downstream write is fused with the
// source, which is why the write is in the reading DoFn and not a ParDo after it.
//
// Failure. A round that fails (a failed pull or archive write, a panic downstream) nacks all it
// pulled, so a retry reads it at once; what a failed attempt held in this process is nacked by
// the retry (Restriction.ID). Messages archived by a round that then failed come back and are
// archived again: the archive holds each acked message at least once, and dedup absorbs the
// copies. A killed process acks nothing more; its held messages come back when their lease
// (AckExtension) runs out.
//
// Leases. Held messages have their ack deadline renewed by the process's leaseKeeper (lease.go)
// until they are acked, nacked or MaxLease passes.

import (
	"context"
	"slices"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
)

// settle is the start of every round: what this restriction's round still holds in this process
// is from an attempt whose bundle failed (nack it), and the previous round's ids are committed
// (ack them and stop renewing their leases).
func (fn *readFn) settle(ctx context.Context, rest Restriction) {
	fn.leases.nack(fn.leases.heldBy(rest.ID))
	fn.leases.drop(rest.PendingAcks)
	fn.acknowledge(ctx, rest.PendingAcks)
}

// acknowledge acks ids whose bundle is committed. A failed ack only means a redelivery, which
// dedup absorbs, so it is counted and logged rather than failing the pipeline.
func (fn *readFn) acknowledge(ctx context.Context, ids []string) {
	for chunk := range slices.Chunk(ids, ackBatch) {
		err := fn.client.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: fn.Subscription, AckIds: chunk})
		if err != nil {
			fn.ackErrors.Inc(ctx, int64(len(chunk)))
			log.Warnf(ctx, "acknowledging %d messages on %s (they will be redelivered): %v", len(chunk), fn.Subscription, err)
			continue
		}
		fn.acked.Inc(ctx, int64(len(chunk)))
	}
}
