package ingesttest_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.json")
	if err := os.WriteFile(path, []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := string(ingesttest.ReadFile(t, path)); got != `{"a":1}` {
		t.Errorf("ReadFile = %q", got)
	}
}

func TestWarningPaths(t *testing.T) {
	doc := &ingest.Document{Warnings: []ingest.Warning{{Path: "a[0]", Message: "x"}, {Message: "summary"}, {Path: "b", Message: "y"}}}
	if got, want := ingesttest.WarningPaths(doc), []string{"a[0]", "", "b"}; !slices.Equal(got, want) {
		t.Errorf("WarningPaths = %q, want %q", got, want)
	}
	if got := ingesttest.WarningPaths(&ingest.Document{}); got != nil {
		t.Errorf("WarningPaths of no warnings = %q, want nil", got)
	}
}
