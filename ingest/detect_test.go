package ingest_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sectwin/sectwin/ingest"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"cyclonedx", `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, ingest.FormatCycloneDX},
		{"cyclonedx after schema", `{"$schema":"http://cyclonedx.org/schema/bom-1.6.schema.json","bomFormat":"CycloneDX"}`, ingest.FormatCycloneDX},
		{"spdx", `{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.2"}`, ingest.FormatSPDX},
		{"sarif", `{"version":"2.1.0","runs":[]}`, ingest.FormatSARIF},
		{"sarif runs only", `{"runs":[{"results":[]}]}`, ingest.FormatSARIF},
		{"trivy", `{"SchemaVersion":2,"ArtifactName":".","Results":[]}`, ingest.FormatTrivy},
		{"grype", `{"matches":[],"source":{},"descriptor":{}}`, ingest.FormatGrype},
		{"osv", `{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","affected":[]}`, ingest.FormatOSV},
		{"openvex", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}`, ingest.FormatOpenVEX},
		{"kev", `{"title":"CISA Catalog","catalogVersion":"2024.03.18","vulnerabilities":[]}`, ingest.FormatKEV},
		{"attack", `{"type":"bundle","id":"bundle--1","objects":[]}`, ingest.FormatATTACK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ingest.Detect([]byte(tt.doc))
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{`[]`, `"x"`, `{"hello":"world"}`, `{}`} {
		if _, err := ingest.Detect([]byte(bad)); !errors.Is(err, ingest.ErrUnknownFormat) {
			t.Errorf("Detect(%s) = %v, want ErrUnknownFormat", bad, err)
		}
	}
	// Detect stops at the first decisive key; a syntax error before it is reported with its place.
	_, err := ingest.Detect([]byte("{\n  \"$schema\": \"x\",\n  \"a\": 1\n  \"bomFormat\": \"CycloneDX\"}"))
	var pe *ingest.ParseError
	if !errors.As(err, &pe) || pe.Line != 4 || pe.Column != 3 {
		t.Errorf("malformed: %v (%+v), want a ParseError at line 4, column 3 (the key after the missing comma)", err, pe)
	}
}

// TestDetectSamples detects every shared sample as the format of its folder.
func TestDetectSamples(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "samples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no shared samples at %s: the corpus tests run where they exist (CI has them)", root)
	}
	want := map[string]string{"cyclonedx": ingest.FormatCycloneDX, "spdx": ingest.FormatSPDX, "sarif": ingest.FormatSARIF,
		"trivy": ingest.FormatTrivy, "grype": ingest.FormatGrype, "osv": ingest.FormatOSV, "openvex": ingest.FormatOpenVEX,
		"kev": ingest.FormatKEV, "attack-stix": ingest.FormatATTACK}
	n := 0
	for dir, format := range want {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ingest.Detect(data)
			if err != nil || got != format {
				t.Errorf("%s: Detect = %q, %v; want %q", f, got, err, format)
			}
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d samples found", n)
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{`{"bomFormat":"CycloneDX"}`, `{"runs":[]}`, `{`, `[]`, `{"a":{"b":[1,2,{"c":"d"}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := ingest.Detect(data)
		if err == nil && format == "" {
			t.Fatal("no format and no error")
		}
	})
}
