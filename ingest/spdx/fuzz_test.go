package spdx_test

import (
	"errors"
	"testing"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
	"github.com/sectwin/sectwin/ingest/spdx"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must refuse only with a
// *ingest.ParseError, and must hand on only batches that graph accepts.
func FuzzParse(f *testing.F) {
	ingesttest.AddSeeds(f, ingest.FormatSPDX, "*.json*", 0)
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a"},{"SPDXID":"SPDXRef-b","name":"a"}],"relationships":[{"spdxElementId":"SPDXRef-a","relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := spdx.Parse(data)
		if err != nil {
			var pe *ingest.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error that is not a *ingest.ParseError: %v", err)
			}
			return
		}
		checkBatch(t, doc)
		if doc.Counts.Components < 0 || doc.Counts.Relationships < 0 {
			t.Fatalf("negative counts %+v", doc.Counts)
		}
	})
}
