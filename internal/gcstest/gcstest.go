// Package gcstest runs fake-gcs-server in-process for the tests that write to or read from a
// bucket: the storage clients made in the test's process (the pipelines' on Prism too) find it
// through STORAGE_EMULATOR_HOST. Import it only from _test.go files, as bqtest is.
package gcstest

import (
	"io"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Start starts fake-gcs-server on a free loopback port with the bucket named bucket, points
// STORAGE_EMULATOR_HOST at it for the rest of t, and stops it when t ends.
func Start(t testing.TB, bucket string) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, Writer: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL(), "http://"))
	return srv
}
