package backfill

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// emulator is the real Pub/Sub emulator (gcloud beta emulators pubsub start), started once for
// the package's tests on a free loopback port and stopped by TestMain.
var emulator struct {
	once sync.Once
	addr string
	cmd  *exec.Cmd
	log  bytes.Buffer
	err  error
}

func startEmulator(t *testing.T) string {
	t.Helper()
	emulator.once.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			emulator.err = err
			return
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start", "--host-port="+addr, "--quiet")
		cmd.Stdout, cmd.Stderr = &emulator.log, &emulator.log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // gcloud starts java: stop the whole group
		if emulator.err = cmd.Start(); emulator.err != nil {
			return
		}
		emulator.cmd = cmd
		for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				emulator.addr = addr
				return
			}
		}
		emulator.err = fmt.Errorf("emulator not listening on %s after 120s", addr)
	})
	if emulator.err != nil {
		t.Fatalf("starting the Pub/Sub emulator: %v\n%s", emulator.err, emulator.log.String())
	}
	return emulator.addr
}

func stopEmulator() {
	if emulator.cmd == nil || emulator.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-emulator.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { emulator.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-emulator.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// newSubscription creates a topic and a subscription with a unique name.
func newSubscription(t *testing.T, addr string) (topic, sub string) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("b%d", time.Now().UnixNano())
	topic, sub = "projects/tributary-test/topics/"+id, "projects/tributary-test/subscriptions/"+id
	c, err := pubsub.NewClient(ctx, topic, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatalf("creating topic: %v", err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: 10}); err != nil {
		t.Fatalf("creating subscription: %v", err)
	}
	return topic, sub
}

// publish sends msgs in batches of 100.
func publish(t *testing.T, addr, topic string, msgs []*pubsubpb.PubsubMessage) {
	t.Helper()
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, topic, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < len(msgs); i += 100 {
		if _, err := c.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: topic, Messages: msgs[i:min(i+100, len(msgs))]}); err != nil {
			t.Fatalf("publishing: %v", err)
		}
	}
}

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	stopEmulator()
	os.Exit(code)
}
