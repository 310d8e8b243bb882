package files

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStoreReplace checks that Replace writes a new file and replaces an existing one whole,
// locally and on Cloud Storage, leaving no temporary file.
func TestStoreReplace(t *testing.T) {
	const name = "summary.json"
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			prefix, c, st := tg.open(t)
			ctx := context.Background()
			for _, data := range []string{"{\"run\": 1}\n", "{\"run\": 2, \"longer\": true}\n", "{}\n"} {
				if err := st.Replace(ctx, Join(prefix, name), []byte(data)); err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for n, b := range listFiles(t, c, prefix) {
					got[n] = string(b)
				}
				if diff := cmp.Diff(map[string]string{name: data}, got); diff != "" {
					t.Errorf("files (-want +got):\n%s", diff)
				}
			}
			if err := st.Replace(ctx, "gs://other/"+name, nil); tg.name == "local" && err == nil {
				t.Error("Replace of a gs:// location in a local store: no error")
			}
		})
	}
}
