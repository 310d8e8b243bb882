// Package telemetry names Tributary's Beam metrics (namespace "tributary") and mirrors them into
// process-local totals, so a local run can print progress while the pipeline is still running
// (Beam only reports metrics at the end of a job; with Prism in-process the workers share this
// process). On remote workers the local totals are simply never read.
package telemetry
