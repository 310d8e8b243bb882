package streaming

import "strings"

// DeliveryWarning returns what an operator must know at start-up about the delivery guarantee on
// runner (Beam's --runner), or "" where an ack is safe.
//
// The source acks a round's messages when the runner starts the round after it, which happens
// once the reading bundle is committed. On Prism (its own memory) and Dataflow (Streaming Engine)
// a committed bundle is durable, on Flink only at the next checkpoint. Holding acks until that
// checkpoint needs bundle finalization, which Beam Go v2.77 runs only for a plan's first bundle
// (core/runtime/exec/plan.go: Plan.Finalize; core/runtime/harness/harness.go reuses plans), and
// plan reuse is not under a pipeline's control.
func DeliveryWarning(runner string) string {
	const flink = "on Flink a committed bundle is durable only at the next checkpoint, but Pub/Sub " +
		"messages are acked as soon as the bundle that read them is committed: if the job fails " +
		"after an ack and before the next checkpoint, Flink restores the older checkpoint and those " +
		"messages are lost (Pub/Sub will not redeliver them). Waiting for the checkpoint needs " +
		"bundle finalization, which Beam Go v2.77 runs only for the first bundle of a reused plan " +
		"(core/runtime/exec/plan.go, core/runtime/harness/harness.go). Keep checkpoints frequent, " +
		"and to recover, seek the subscription (with retain_acked_messages) back to before the failure"
	switch strings.ToLower(runner) {
	case "flink", "flinkrunner":
		return "delivery: " + flink
	case "universal", "portablerunner":
		return "delivery: with --runner=universal the job server's runner is unknown; if it is Flink, " + flink +
			" (use --runner=flink to say so)"
	}
	return ""
}
