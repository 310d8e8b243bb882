package deadletter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)

func TestDeadLetterMessage(t *testing.T) {
	many := map[string]string{}
	for i := range 100 {
		many[fmt.Sprintf("a%03d", i)] = "v"
	}
	tests := []struct {
		name        string
		in          schemas.DeadLetter
		wantAttrs   map[string]string
		wantDropped int
	}{
		{
			name: "original payload and attributes plus the error",
			in: schemas.DeadLetter{Step: "decode", Reason: "invalid_json", Error: "unexpected end", Payload: []byte("{"),
				Attributes: map[string]string{"event_time": "2026-11-01T12:00:00Z"}, MessageID: "m1", PublishTime: t0, Time: t0.Add(time.Second)},
			wantAttrs: map[string]string{
				"event_time": "2026-11-01T12:00:00Z", AttrStep: "decode", AttrReason: "invalid_json", AttrError: "unexpected end",
				AttrMessageID: "m1", AttrPublishTime: "2026-11-01T12:00:00.123456789Z", AttrTime: "2026-11-01T12:00:01.123456789Z",
			},
		},
		{
			name: "a long error is cut to Pub/Sub's attribute limit, on a character boundary",
			in:   schemas.DeadLetter{Step: "s", Reason: "r", Error: "x" + strings.Repeat("é", 600)},
			wantAttrs: map[string]string{
				AttrStep: "s", AttrReason: "r", AttrError: "x" + strings.Repeat("é", 511),
			},
		},
		{
			name: "a cut payload carries its original size",
			in:   schemas.DeadLetter{Step: "decode", Reason: "too_large", Error: "e", Payload: []byte("abc"), PayloadSize: 9_900_000},
			wantAttrs: map[string]string{
				AttrStep: "decode", AttrReason: "too_large", AttrError: "e", AttrPayloadSize: "9900000",
			},
		},
		{
			name: "attributes beyond Pub/Sub's 100 are left out and counted",
			in:   schemas.DeadLetter{Step: "s", Reason: "r", Error: "e", Attributes: many},
			wantAttrs: func() map[string]string {
				m := map[string]string{AttrStep: "s", AttrReason: "r", AttrError: "e", AttrDropped: "4"}
				for i := range 96 {
					m[fmt.Sprintf("a%03d", i)] = "v"
				}
				return m
			}(),
			wantDropped: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, dropped := Message(tc.in)
			if string(msg.Data) != string(tc.in.Payload) {
				t.Errorf("data = %q, want %q", msg.Data, tc.in.Payload)
			}
			if diff := cmp.Diff(tc.wantAttrs, msg.Attributes); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
			if dropped != tc.wantDropped {
				t.Errorf("dropped = %d, want %d", dropped, tc.wantDropped)
			}
		})
	}
}
