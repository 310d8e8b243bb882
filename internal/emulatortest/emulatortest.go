// Package emulatortest runs the real Pub/Sub emulator (gcloud beta emulators pubsub start) for
// the end-to-end tests of the pipelines: started once per test binary on a free loopback port,
// stopped by Main, with the few admin calls the tests make (topics, subscriptions, publish,
// pull). Import it only from _test.go files, as beamtest and bqtest are.
package emulatortest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// startTimeout is how long the emulator (a JVM started by gcloud) may take to listen: generous,
// as the machine may be loaded.
const startTimeout = 120 * time.Second

var emulator struct {
	once sync.Once
	addr string
	cmd  *exec.Cmd
	log  bytes.Buffer
	err  error
}

// Main is a package's TestMain: it runs the tests on Prism (ptest.MainRet) and stops the
// emulator if a test started it.
func Main(m *testing.M) {
	code := ptest.MainRet(m)
	Stop()
	os.Exit(code)
}

// Start returns the emulator's host:port, starting it on first use; it fails t with the
// emulator's output when the emulator does not come up.
func Start(t testing.TB) string {
	t.Helper()
	emulator.once.Do(func() { emulator.addr, emulator.err = launch() })
	if emulator.err != nil {
		t.Fatalf("starting the Pub/Sub emulator: %v\n%s", emulator.err, emulator.log.String())
	}
	return emulator.addr
}

func launch() (string, error) {
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
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, nil
		}
	}
	Stop()
	return "", fmt.Errorf("emulator not listening on %s after %v", addr, startTimeout)
}

// Stop stops the emulator's process group (SIGTERM, then SIGKILL after 10s); a no-op when it
// is not running.
func Stop() {
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

// Client is a client of the emulator at addr for path (a topic or subscription); the caller
// closes it.
func Client(t testing.TB, addr, path string) *gpubsub.Client {
	t.Helper()
	c, err := pubsub.NewClient(context.Background(), path, addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewSubscription creates a topic with a unique name and a subscription of the same name.
func NewSubscription(t testing.TB, addr string, ackDeadline int32) (topic, sub string) {
	t.Helper()
	topic = fmt.Sprintf("projects/tributary-test/topics/t%d", time.Now().UnixNano())
	c := Client(t, addr, topic)
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatalf("creating topic: %v", err)
	}
	return topic, AddSubscription(t, addr, topic, "", ackDeadline)
}

// AddSubscription adds a subscription to an existing topic, named as the topic with suffix.
func AddSubscription(t testing.TB, addr, topic, suffix string, ackDeadline int32) string {
	t.Helper()
	sub := strings.Replace(topic, "/topics/", "/subscriptions/", 1) + suffix
	req := &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: ackDeadline}
	c := Client(t, addr, sub)
	defer c.Close()
	if _, err := c.SubscriptionAdminClient.CreateSubscription(context.Background(), req); err != nil {
		t.Fatalf("creating subscription: %v", err)
	}
	return sub
}

// Publish sends msgs in requests of 100 and returns their ids in order.
func Publish(t testing.TB, addr, topic string, msgs []*pubsubpb.PubsubMessage) []string {
	t.Helper()
	ids, err := PublishPaced(addr, topic, msgs, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// PublishPaced is Publish with a pause after each request of 100, returning its error rather
// than failing a test, so that a test can publish in the background while a pipeline reads.
func PublishPaced(addr, topic string, msgs []*pubsubpb.PubsubMessage, pause time.Duration) ([]string, error) {
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, topic, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var ids []string
	for i := 0; i < len(msgs); i += 100 { // the emulator takes at most 1000 per request; keep it modest
		resp, err := c.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: topic, Messages: msgs[i:min(i+100, len(msgs))]})
		if err != nil {
			return nil, fmt.Errorf("publishing: %w", err)
		}
		ids = append(ids, resp.GetMessageIds()...)
		time.Sleep(pause)
	}
	return ids, nil
}

// Backlog pulls once and returns how many messages the subscription redelivers.
func Backlog(t testing.TB, addr, sub string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := Client(t, addr, sub)
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

// PullAll pulls and acks until want messages arrived or a pull comes back empty.
func PullAll(t testing.TB, addr, sub string, want int) []*pubsubpb.PubsubMessage {
	t.Helper()
	ctx := context.Background()
	c := Client(t, addr, sub)
	defer c.Close()
	var got []*pubsubpb.PubsubMessage
	for len(got) < want {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := c.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 10})
		cancel()
		if err != nil || len(resp.GetReceivedMessages()) == 0 {
			break
		}
		var ackIDs []string
		for _, m := range resp.GetReceivedMessages() {
			got = append(got, m.GetMessage())
			ackIDs = append(ackIDs, m.GetAckId())
		}
		if err := c.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ackIDs}); err != nil {
			t.Fatal(err)
		}
	}
	return got
}
