// Command emulator starts gcloud's Pub/Sub emulator, waits until it answers, creates a topic and
// a subscription on it and prints the export line that points clients at it. In the foreground
// it runs until Ctrl-C; with --background it leaves the emulator running, its process group in
// --pidFile, for --stop (make emulator, make emulator-stop).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// The README's names.
const (
	defaultHostPort = "localhost:8085"
	defaultProject  = "demo"
	defaultTopic    = "events"
)

func main() {
	c := config{}
	flag.StringVar(&c.hostPort, "hostPort", defaultHostPort, "host:port the emulator listens on")
	flag.StringVar(&c.project, "project", defaultProject, "project of the topic and subscription")
	flag.StringVar(&c.topic, "topic", defaultTopic, "topic to create, projects/<project>/topics/<topic>")
	flag.StringVar(&c.subscription, "subscription", defaultTopic, "subscription to create on the topic")
	flag.IntVar(&c.ackDeadline, "ackDeadline", 60, "ack deadline of the subscription, in seconds")
	flag.DurationVar(&c.wait, "wait", 2*time.Minute, "how long to wait for the emulator to answer")
	flag.BoolVar(&c.background, "background", false, "leave the emulator running and exit; --stop stops it")
	flag.StringVar(&c.pidFile, "pidFile", "out/emulator.pid", "with --background and --stop: file holding the emulator's process group")
	stop := flag.Bool("stop", false, "stop the emulator started with --background")
	flag.Parse()
	var err error
	if *stop {
		err = stopBackground(c.pidFile)
	} else {
		err = run(c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}

type config struct {
	hostPort, project, topic, subscription, pidFile string
	ackDeadline                                     int
	wait                                            time.Duration
	background                                      bool
}

func run(c config) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if pid, ok := runningGroup(c.pidFile); ok && c.background {
		// Already started by an earlier make emulator: only make sure of the resources.
		if err := createResources(ctx, c); err != nil {
			return fmt.Errorf("emulator (process group %d) is running but: %w", pid, err)
		}
		printReady(c)
		return nil
	}
	if answers(c.hostPort) {
		return fmt.Errorf("%s is already in use: stop what listens there (make emulator-stop) or pass --hostPort", c.hostPort)
	}
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start", "--host-port="+c.hostPort, "--quiet")
	// gcloud starts java: its own process group lets Ctrl-C and --stop end both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logPath := filepath.Join(filepath.Dir(c.pidFile), "emulator.log")
	if c.background {
		if err := os.MkdirAll(filepath.Dir(c.pidFile), 0o755); err != nil {
			return err
		}
		log, err := os.Create(logPath)
		if err != nil {
			return err
		}
		defer log.Close()
		cmd.Stdout, cmd.Stderr = log, log
	} else {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running gcloud (install the Google Cloud CLI and its pubsub-emulator component: make emulator-check): %w", err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitReady(ctx, c, exited); err != nil {
		killGroup(pgid, exited)
		if c.background {
			err = fmt.Errorf("%w (log: %s)", err, logPath)
		}
		return err
	}
	if c.background {
		if err := os.WriteFile(c.pidFile, []byte(strconv.Itoa(pgid)+"\n"), 0o644); err != nil {
			killGroup(pgid, exited)
			return err
		}
		printReady(c)
		fmt.Printf("# stop it with: make emulator-stop (log: %s)\n", logPath)
		return nil
	}
	printReady(c)
	fmt.Println("# Ctrl-C stops it")
	select {
	case <-ctx.Done():
	case err := <-exited:
		return fmt.Errorf("the emulator exited: %v", err)
	}
	killGroup(pgid, exited)
	return nil
}

func printReady(c config) {
	fmt.Printf("# Pub/Sub emulator on %s: topic %s, subscription %s\n", c.hostPort, c.topicPath(), c.subscriptionPath())
	fmt.Printf("export PUBSUB_EMULATOR_HOST=%s\n", c.hostPort)
}

func (c config) topicPath() string { return "projects/" + c.project + "/topics/" + c.topic }
func (c config) subscriptionPath() string {
	return "projects/" + c.project + "/subscriptions/" + c.subscription
}

// waitReady polls until the emulator accepts the topic and the subscription.
func waitReady(ctx context.Context, c config, exited <-chan error) error {
	deadline := time.Now().Add(c.wait)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("the emulator exited before answering: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if !answers(c.hostPort) {
			continue
		}
		if last = createResources(ctx, c); last == nil {
			return nil
		}
	}
	return fmt.Errorf("the emulator did not answer on %s within %v: %v", c.hostPort, c.wait, last)
}

func answers(hostPort string) bool {
	conn, err := net.DialTimeout("tcp", hostPort, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// createResources creates the topic and the subscription; existing ones are kept.
func createResources(ctx context.Context, c config) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := pubsub.NewClient(ctx, c.topicPath(), c.hostPort)
	if err != nil {
		return err
	}
	defer client.Close()
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: c.topicPath()}); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("creating topic %s: %w", c.topicPath(), err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: c.subscriptionPath(), Topic: c.topicPath(), AckDeadlineSeconds: int32(c.ackDeadline)}); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("creating subscription %s: %w", c.subscriptionPath(), err)
	}
	return nil
}

// runningGroup returns the process group in pidFile when it is still alive.
func runningGroup(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pgid <= 1 {
		return 0, false
	}
	return pgid, syscall.Kill(-pgid, 0) == nil
}

// stopBackground ends the process group in pidFile and removes the file.
func stopBackground(pidFile string) error {
	pgid, ok := runningGroup(pidFile)
	if !ok {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			fmt.Println("# no emulator started by make emulator is running")
			return nil
		}
		fmt.Println("# the emulator had already stopped")
		return os.Remove(pidFile)
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	for i := 0; i < 100 && syscall.Kill(-pgid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if syscall.Kill(-pgid, 0) == nil {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	fmt.Printf("# stopped the Pub/Sub emulator (process group %d)\n", pgid)
	return os.Remove(pidFile)
}

// killGroup ends a foreground emulator's process group and waits for gcloud to exit.
func killGroup(pgid int, exited <-chan error) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
}
