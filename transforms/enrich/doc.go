// Package enrich adds reference data to events: the product's category and list price from the
// product catalog, and the event's amount in USD from the currency rate file, at the rate in
// force at the event's time. Both files live on
// any Beam filesystem (local or gs://), are loaded when a worker sets up and reloaded on an
// interval, so updated reference data reaches a running streaming job without a restart.
package enrich
