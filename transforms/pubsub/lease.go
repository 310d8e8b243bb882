package pubsub

import (
	"context"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
)

// Leases: a message is held from the pull that read it until the round after the one that read
// it acks it, which is only once the reading bundle is committed. That can take longer than any
// single ack deadline (a big bundle, a slow sink, a slow commit), so a per-process keeper renews
// the deadlines of everything held until it is acked, for at most MaxLease.
const (
	// minAckDeadline is Pub/Sub's smallest subscription ack deadline: a freshly pulled message is
	// safe for at least this long, whatever the subscription says.
	minAckDeadline = 10 * time.Second
	// leaseTick is how often the keeper looks for leases to renew; far below any renewal margin.
	leaseTick = time.Second
	// renewTimeout bounds one ModifyAckDeadline call.
	renewTimeout = 10 * time.Second
)

// leaseKey names a keeper: one per subscription and endpoint in the process.
type leaseKey struct{ subscription, endpoint string }

// lease is one held message.
type lease struct {
	renewAt   time.Time     // when to extend it next: half-way through its current deadline
	until     time.Time     // when to stop renewing (pull time + MaxLease)
	extension time.Duration // the deadline each renewal sets
	round     uint64        // the Restriction.ID of the round that pulled it
}

// leaseKeeper renews the ack deadlines of held messages. It is shared by every reader of its
// subscription in the process (the DoFn instances of all bundles, which the Go SDK never tears
// down: harness.go drops plans without calling Teardown), holds its own client, and runs a
// goroutine only while it holds something. Renewing an id that another reader already acked
// fails harmlessly (Pub/Sub ignores it).
type leaseKeeper struct {
	key    leaseKey
	client *pubsub.Client

	mu      sync.Mutex
	users   int
	leases  map[string]lease
	running bool
	now     func() time.Time
}

var keepers struct {
	sync.Mutex
	m map[leaseKey]*leaseKeeper
}

// acquireLeaseKeeper returns the keeper of a subscription, creating it (and its client) on first
// use. Each acquire is paired with a release.
func acquireLeaseKeeper(ctx context.Context, subscription, endpoint string) (*leaseKeeper, error) {
	keepers.Lock()
	defer keepers.Unlock()
	key := leaseKey{subscription, endpoint}
	k := keepers.m[key]
	if k == nil {
		c, err := NewClient(ctx, subscription, endpoint)
		if err != nil {
			return nil, err
		}
		k = &leaseKeeper{key: key, client: c, leases: map[string]lease{}, now: time.Now}
		if keepers.m == nil {
			keepers.m = map[leaseKey]*leaseKeeper{}
		}
		keepers.m[key] = k
	}
	k.mu.Lock()
	k.users++
	k.mu.Unlock()
	return k, nil
}

// release gives up one user; the last one closes the keeper. Leases it still held then run out
// at their current deadline and the messages are redelivered.
func (k *leaseKeeper) release() error {
	keepers.Lock()
	defer keepers.Unlock()
	k.mu.Lock()
	k.users--
	last := k.users == 0
	if last {
		clear(k.leases) // the renewal loop sees an empty map and exits
	}
	k.mu.Unlock()
	if !last {
		return nil
	}
	delete(keepers.m, k.key)
	return k.client.Close()
}

// hold starts leases on ids pulled at pulledAt by round: the first renewal comes half-way through
// Pub/Sub's minimum ack deadline, so a round acked within seconds (the normal case) costs no
// extra call.
func (k *leaseKeeper) hold(ids []string, round uint64, pulledAt time.Time, extension, maxLease time.Duration) {
	if len(ids) == 0 {
		return
	}
	l := lease{renewAt: pulledAt.Add(minAckDeadline / 2), until: pulledAt.Add(maxLease), extension: extension, round: round}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range ids {
		k.leases[id] = l
	}
	if !k.running {
		k.running = true
		go k.renewLoop()
	}
}

// drop ends the leases of ids, which are being acked.
func (k *leaseKeeper) drop(ids []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range ids {
		delete(k.leases, id)
	}
}

// heldBy returns the ids that round pulled and still holds.
func (k *leaseKeeper) heldBy(round uint64) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var ids []string
	for id, l := range k.leases {
		if l.round == round {
			ids = append(ids, id)
		}
	}
	return ids
}

// held reports how many leases the keeper holds.
func (k *leaseKeeper) held() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.leases)
}

// renewLoop extends due leases every leaseTick and exits when nothing is held.
func (k *leaseKeeper) renewLoop() {
	t := time.NewTicker(leaseTick)
	defer t.Stop()
	for range t.C {
		due, expired, more := k.due()
		if expired > 0 {
			log.Warnf(context.Background(), "pubsub: %d messages on %s held longer than the maximum lease: no longer renewed, they will be redelivered",
				expired, k.key.subscription)
		}
		for ext, ids := range due {
			k.modify(ids, ext)
		}
		if !more {
			return
		}
	}
}

// due collects the leases to renew now, grouped by extension, and moves their next renewal on;
// it drops leases past their limit (returning how many) and reports whether any lease remains.
// When none remains it marks the loop stopped, under the same lock as hold checks it.
func (k *leaseKeeper) due() (due map[time.Duration][]string, expired int, more bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	for id, l := range k.leases {
		switch {
		case !now.Before(l.until):
			delete(k.leases, id)
			expired++
		case !now.Before(l.renewAt):
			if due == nil {
				due = map[time.Duration][]string{}
			}
			due[l.extension] = append(due[l.extension], id)
			l.renewAt = now.Add(l.extension / 2)
			k.leases[id] = l
		}
	}
	if len(k.leases) == 0 {
		k.running = false
		return due, expired, false
	}
	return due, expired, true
}

// modify sets the ack deadline of ids (0 nacks them: redelivery at once).
func (k *leaseKeeper) modify(ids []string, d time.Duration) {
	for chunk := range slices.Chunk(ids, ackBatch) {
		ctx, cancel := context.WithTimeout(context.Background(), renewTimeout)
		err := k.client.SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{
			Subscription: k.key.subscription, AckIds: chunk, AckDeadlineSeconds: int32(d / time.Second)})
		cancel()
		if err != nil {
			log.Warnf(context.Background(), "pubsub: setting the ack deadline of %d messages on %s to %v: %v", len(chunk), k.key.subscription, d, err)
		}
	}
}

// nack ends the leases of ids and makes Pub/Sub redeliver them at once: they were pulled but
// will not be emitted, or the bundle that emitted them is failing.
func (k *leaseKeeper) nack(ids []string) {
	if len(ids) == 0 {
		return
	}
	k.drop(ids)
	k.modify(ids, 0)
}

func ackIDs(msgs []*pubsubpb.ReceivedMessage) []string {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.GetAckId()
	}
	return ids
}
