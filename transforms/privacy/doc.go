// Package privacy replaces user ids by keyed tokens before any output, so the tables, alerts
// and aggregates never hold a raw user_id.
//
// A token is "tok_" followed by the unpadded base64url encoding of HMAC-SHA256(key, user_id):
// the same user and key always give the same token, so sessions, fraud rules and distinct
// counts work on tokens exactly as on ids, and so do joins between runs and pipelines that
// share the key. Without the key a token cannot be linked back to its id (short of guessing
// ids and the key together); with a different key every token changes.
//
// The key comes from a file (a local path or gs://, read on the workers) or from an
// environment variable of the workers, named by KeyFile or KeyEnv. It is never a
// flag value: flag values land in the Flex Template metadata, the job's display data and shell
// history. Surrounding white space is trimmed; at least 32 bytes must remain.
//
// Only the user_id field is tokenized. The raw archive and the dead letters keep the original
// message bytes (replaying and diagnosing them is their purpose), and attributes or unknown
// fields that carry a user id are left as they are.
package privacy
