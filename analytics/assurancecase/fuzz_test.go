package assurancecase

import (
	"os"
	"testing"
	"time"

	"github.com/sectwin/sectwin/ingest/gsn"
)

// FuzzFromGSN: whatever gsn2x case parses, mapping it to the graph and to the engine, and
// editing it, never panics.
func FuzzFromGSN(f *testing.F) {
	seed, err := os.ReadFile("testdata/signals.gsn.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, "Sn9", `{"kind":"scan_fresh","subject":{"service":"a"},"window":"1d","scan":["grype"]}`)
	f.Add([]byte("G1:\n  text: a\n  supportedBy: [Sn1]\nSn1:\n  text: b\n  sectwinEvidence: {kind: heartbeat, window: 5m, heartbeat: {site: s}}\n"), "G1", "")
	f.Add([]byte("CG1:\n  challenges: G1\nG1:\n  text: a\n  undeveloped: true\n"), "CSn2", "{}")
	f.Fuzz(func(t *testing.T, data []byte, id, evidence string) {
		files := map[string][]byte{"f.gsn.yaml": data}
		c, err := gsn.ParseSet(files)
		if err != nil {
			return
		}
		gc, err := FromGSN("tw", "case", "case", c, files, "fuzz", time.Unix(0, 0))
		if err == nil {
			_, _ = ToModel(gc)
		}
		_, _ = ApplyEdits(files, []Edit{{ID: id, Evidence: &evidence, SupportedBy: &[]string{id}}, {ID: id, Remove: true}})
	})
}
