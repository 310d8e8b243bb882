package decode_test

import (
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/decode"
)

func ExampleParse() {
	ev, err := decode.Parse(schemas.Message{Data: []byte(`{"event_id":"e1","event_type":"purchase",` +
		`"event_time":"2024-05-01T14:00:00+02:00","user_id":"u1","product_id":"p1","amount":19.99,"coupon":"SPRING"}`)})
	fmt.Println(ev.EventType, ev.EventTime, ev.Amount, ev.Currency, string(ev.Extra), err)

	_, err = decode.Parse(schemas.Message{Data: []byte(`{"event_id":"e2","event_type":"return"}`)})
	fmt.Println(err.(*decode.Error).Reason, err)
	// Output:
	// purchase 2024-05-01 12:00:00 +0000 UTC 19.99 USD {"coupon":"SPRING"} <nil>
	// invalid_schema event_type: "return" is not one of page_view, add_to_cart, purchase, refund
}

func ExampleDecode() {
	_, s := beam.NewPipelineWithRoot()
	msgs := beam.Create(s, schemas.Message{Data: []byte(`{"event_id":"e1"}`)}) // normally the Pub/Sub source
	out := decode.Decode(s, msgs, decode.Config{MaxOutOfOrderness: time.Minute, AllowedLateness: 10 * time.Minute})
	_ = out.Events      // PCollection<schemas.Event>, on to dedup
	_ = out.DeadLetters // PCollection<schemas.DeadLetter>, on to the dead-letter sink
}
