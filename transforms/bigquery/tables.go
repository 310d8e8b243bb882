package bigquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tributary-dev/tributary/schemas"
)

// writeClientOptions connects managedwriter to cfg.Endpoint. In-process servers and emulators
// need all three options: the endpoint, no credentials and a plain-text transport.
func writeClientOptions(cfg Config) []option.ClientOption {
	if cfg.Endpoint == "" {
		return nil
	}
	opts := []option.ClientOption{option.WithEndpoint(cfg.Endpoint)}
	if cfg.Insecure {
		opts = append(opts,
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	return opts
}

// DefaultMaxConnections is Config.MaxConnections' default: a worker process holds at most this
// many Storage Write connections per region, whatever its tables and bundle threads.
const DefaultMaxConnections = 4

// newWriteClient is the process's Storage Write client for cfg's project and endpoint. Its
// writers (all on default streams) share a pool of at most cfg.MaxConnections connections per
// region instead of one connection each: a worker runs a writer per table and bundle thread, so
// without the pool a job would hold workers × threads × tables connections against the
// project's concurrent-connection quota (README, BigQuery).
func newWriteClient(ctx context.Context, cfg Config) (*managedwriter.Client, error) {
	opts := append(writeClientOptions(cfg), managedwriter.WithMultiplexing(), managedwriter.WithMultiplexPoolLimit(max(cfg.MaxConnections, 1)))
	c, err := managedwriter.NewClient(ctx, cfg.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery %s: creating Storage Write client: %w", cfg.Table, err)
	}
	return c, nil
}

// A worker runs many DoFn instances (one per bundle thread, per table): they share one client
// per project and endpoint, and so its pool of multiplexed AppendRows connections
// (newWriteClient); each has its own writer on its table's default stream.
var sharedClients = struct {
	sync.Mutex
	m map[clientKey]*sharedClient
}{m: map[clientKey]*sharedClient{}}

type clientKey struct {
	project, endpoint string
	insecure          bool
	maxConnections    int
}

type sharedClient struct {
	client *managedwriter.Client
	refs   int
}

// acquireClient returns the process's client for cfg; release it with releaseClient.
func acquireClient(cfg Config) (*managedwriter.Client, error) {
	k := clientKey{cfg.Project, cfg.Endpoint, cfg.Insecure, cfg.MaxConnections}
	sharedClients.Lock()
	defer sharedClients.Unlock()
	if sc, ok := sharedClients.m[k]; ok {
		sc.refs++
		return sc.client, nil
	}
	// The client keeps its context for its background connections: not a call's.
	c, err := newWriteClient(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	sharedClients.m[k] = &sharedClient{client: c, refs: 1}
	return c, nil
}

// releaseClient closes the client once its last user releases it.
func releaseClient(cfg Config) error {
	k := clientKey{cfg.Project, cfg.Endpoint, cfg.Insecure, cfg.MaxConnections}
	sharedClients.Lock()
	defer sharedClients.Unlock()
	sc, ok := sharedClients.m[k]
	if !ok {
		return nil
	}
	if sc.refs--; sc.refs > 0 {
		return nil
	}
	delete(sharedClients.m, k)
	return sc.client.Close()
}

// EnsureTable checks that cfg's table exists, creating it when cfg.CreateTables is set. A
// pipeline calls it before it starts, so a missing table is a start-up error naming the table
// rather than a failing bundle; the sink checks again when a worker sets up.
func EnsureTable(ctx context.Context, cfg Config) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	c, err := newWriteClient(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	return ensureTable(ctx, c, cfg)
}

// ErrTableNotFound is wrapped by the error for a missing table.
var ErrTableNotFound = errors.New("table not found")

func ensureTable(ctx context.Context, c *managedwriter.Client, cfg Config) error {
	err := lookUpTable(ctx, c, cfg)
	if status.Code(err) != codes.NotFound {
		return err
	}
	if !cfg.CreateTables {
		return fmt.Errorf("bigquery: table %s does not exist: %w (create it with terraform/modules/bigquery from schemas/bigquery/%s.json, or set CreateTables)",
			cfg.TableName(), ErrTableNotFound, cfg.Schema)
	}
	if err := createTable(ctx, cfg); err != nil {
		return err
	}
	// A new table can take a moment to be visible to the Storage Write API.
	backoff := 100 * time.Millisecond
	for deadline := time.Now().Add(30 * time.Second); ; backoff = min(2*backoff, 5*time.Second) {
		err = lookUpTable(ctx, c, cfg)
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("bigquery: table %s was created but is not visible yet: %w", cfg.TableName(), err)
	}
	return nil
}

func lookUpTable(ctx context.Context, c *managedwriter.Client, cfg Config) error {
	_, err := c.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: cfg.defaultStream()})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("bigquery: looking up table %s: %w", cfg.TableName(), err)
	}
	return err
}

// createTable creates cfg's table through the REST API (tables.insert), from its schema in
// schemas/bigquery and its layout. A table created meanwhile by another worker is fine.
func createTable(ctx context.Context, cfg Config) error {
	md, err := tableMetadata(cfg)
	if err != nil {
		return err
	}
	var opts []option.ClientOption
	if cfg.RESTEndpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.RESTEndpoint))
	}
	if cfg.Insecure {
		opts = append(opts, option.WithoutAuthentication())
	}
	c, err := bq.NewClient(ctx, cfg.Project, opts...)
	if err != nil {
		return fmt.Errorf("bigquery: creating REST client to create %s: %w", cfg.TableName(), err)
	}
	defer c.Close()
	err = c.Dataset(cfg.Dataset).Table(cfg.Table).Create(ctx, md)
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) && apiErr.Code == http.StatusConflict {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bigquery: creating table %s: %w", cfg.TableName(), err)
	}
	return nil
}

// tableMetadata describes cfg's table as Terraform declares it.
func tableMetadata(cfg Config) (*bq.TableMetadata, error) {
	fields, err := schemas.TableSchema(cfg.Schema)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	schema, err := bq.SchemaFromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("bigquery: schema %s: %w", cfg.Schema, err)
	}
	l, _ := LayoutOf(cfg.Schema)
	md := &bq.TableMetadata{Schema: schema, Description: l.Description}
	if l.Partition != "" {
		md.TimePartitioning = &bq.TimePartitioning{Type: bq.DayPartitioningType, Field: l.Partition}
	}
	if len(l.Clustering) > 0 {
		md.Clustering = &bq.Clustering{Fields: l.Clustering}
	}
	if cfg.CDC {
		md.TableConstraints = &bq.TableConstraints{PrimaryKey: &bq.PrimaryKey{Columns: cfg.PrimaryKey}}
		md.MaxStaleness = &bq.IntervalValue{Minutes: int32(l.MaxStaleness / time.Minute)}
	}
	return md, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
