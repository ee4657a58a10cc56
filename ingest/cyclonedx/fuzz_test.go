package cyclonedx_test

import (
	"errors"
	"testing"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/cyclonedx"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must refuse only with a
// *ingest.ParseError, and must hand on only batches that graph accepts.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, ingest.FormatCycloneDX, "*.json", 0)
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"a","name":"a","purl":"pkg:npm/a@1"}],"dependencies":[{"ref":"a","dependsOn":["a","b"]}],"vulnerabilities":[{"id":"X","affects":[{"ref":"a"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := cyclonedx.Parse(data)
		if err != nil {
			var pe *ingest.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error that is not a *ingest.ParseError: %v", err)
			}
			return
		}
		checkBatch(t, doc)
		if doc.Counts.Components < 0 || doc.Counts.Relationships < 0 || doc.Counts.Vulnerabilities < 0 {
			t.Fatalf("negative counts %+v", doc.Counts)
		}
	})
}
