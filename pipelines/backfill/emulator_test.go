package backfill

import (
	"testing"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/tributary-dev/tributary/internal/emulatortest"
)

// The real Pub/Sub emulator, started once for the package's tests and stopped by TestMain
// (internal/emulatortest, shared with pipelines/streaming).

func TestMain(m *testing.M) { emulatortest.Main(m) }

func startEmulator(t *testing.T) string {
	t.Helper()
	return emulatortest.Start(t)
}

func stopEmulator() { emulatortest.Stop() }

// newSubscription creates a topic and a subscription with a unique name.
func newSubscription(t *testing.T, addr string) (topic, sub string) {
	t.Helper()
	return emulatortest.NewSubscription(t, addr, 10)
}

// publish sends msgs in batches of 100.
func publish(t *testing.T, addr, topic string, msgs []*pubsubpb.PubsubMessage) {
	t.Helper()
	emulatortest.Publish(t, addr, topic, msgs)
}
