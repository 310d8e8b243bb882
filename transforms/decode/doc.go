// Package decode turns Pub/Sub messages into typed, validated events (schemas.Event) timestamped
// with their payload's event_time, and everything else into dead letters.
//
// Parse is the hot path and does not use encoding/json: a strict single-pass scanner reads the v1
// envelope in place and copies only what the event keeps, in three allocations for a typical
// event, and whatever it accepts is valid JSON. Decode wraps it in a Beam transform that also
// marks events too late for the windowed aggregates.
package decode
