// Package pubsub is a portable Google Cloud Pub/Sub source for the Beam Go SDK: an unbounded
// splittable DoFn that runs on any portable runner (Prism, Flink, Dataflow), timestamps elements
// from an attribute, estimates the watermark from what it reads, and acknowledges messages only
// after the bundle that emitted them is committed.
//
// Read is the source (read.go; the ack design in ack.go and ack leases in lease.go; event
// time and its bounds in timestamp.go; the watermark in watermark_estimator.go). Write is the one
// Pub/Sub writer of the project (write.go): bounded in-flight publishes, transient errors fail
// the bundle, permanent refusals become dead letters.
package pubsub
