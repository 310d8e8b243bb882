// Package deadletter owns Tributary's dead-letter convention: every step that cannot handle an
// input emits a schemas.DeadLetter carrying the original bytes, attributes, the step and the error,
// and counts it as deadletter.<reason>. Nothing is dropped without a record or a counter.
//
// A dead letter always fits every sink it goes to (a BigQuery append of at most 10 MB, a Pub/Sub
// message of at most 10 MB with its attributes): its payload is cut to MaxPayload and its error
// text to MaxError, with the original size kept (schemas.DeadLetter.PayloadSize). The archive,
// written before any step can fail, keeps the whole message.
//
// Route (route.go) is the one place dead letters are routed: to the dead_letters table, to a
// topic, and failing the bundle when no sink takes one. Message (message.go) is the topic's
// message format (the original payload and attributes plus tributary_* attributes).
package deadletter
