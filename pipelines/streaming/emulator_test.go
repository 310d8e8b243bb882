package streaming

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

// startEmulator returns the emulator's host:port, starting it on first use.
func startEmulator(t *testing.T) string {
	t.Helper()
	emulator.once.Do(func() { emulator.addr, emulator.err = launchEmulator() })
	if emulator.err != nil {
		t.Fatalf("starting the Pub/Sub emulator: %v\n%s", emulator.err, emulator.log.String())
	}
	return emulator.addr
}

func launchEmulator() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start", "--host-port="+addr, "--quiet")
	cmd.Stdout, cmd.Stderr = &emulator.log, &emulator.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // gcloud starts java: stop the whole group
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("running gcloud: %w", err)
	}
	emulator.cmd = cmd
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	stopEmulator()
	return "", fmt.Errorf("emulator not listening on %s after 90s", addr)
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
	emulator.cmd = nil
}

// newEmulatorSubscription creates a topic and a subscription with a unique name.
func newEmulatorSubscription(t *testing.T, addr string, ackDeadline int32) (topic, sub string) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("t%d", time.Now().UnixNano())
	topic, sub = "projects/tributary-test/topics/"+id, "projects/tributary-test/subscriptions/"+id
	c, err := pubsub.NewClient(ctx, topic, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatalf("creating topic: %v", err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: ackDeadline}); err != nil {
		t.Fatalf("creating subscription: %v", err)
	}
	return topic, sub
}

// publish sends messages and returns their ids in order.
func publish(t *testing.T, addr, topic string, msgs []*pubsubpb.PubsubMessage) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, topic, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ids []string
	for i := 0; i < len(msgs); i += 100 { // the emulator takes at most 1000 per request; keep it modest
		end := min(i+100, len(msgs))
		resp, err := c.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: topic, Messages: msgs[i:end]})
		if err != nil {
			t.Fatalf("publishing: %v", err)
		}
		ids = append(ids, resp.GetMessageIds()...)
	}
	return ids
}

// backlog pulls once and returns how many messages the subscription redelivers.
func backlog(t *testing.T, addr, sub string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pubsub.NewClient(ctx, sub, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 1000})
	if err != nil {
		if ctx.Err() != nil {
			return 0 // the emulator holds an empty pull open until the deadline
		}
		t.Fatalf("pulling: %v", err)
	}
	return len(resp.GetReceivedMessages())
}

func TestMain(m *testing.M) {
	code := ptest.MainRet(m)
	stopEmulator()
	os.Exit(code)
}
