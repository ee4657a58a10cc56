package attack

import (
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		file       string
		version    string
		techniques int
		threats    map[string]map[string]any
		warnings   []string
		messages   []string // parts of the summary warnings, in order
	}{
		{
			file: "enterprise-mini.attack.json", version: "2.1", techniques: 6,
			threats: map[string]map[string]any{
				"T1190": {"name": "Exploit Public-Facing Application", "tactics": []string{"initial-access", "initial-access-ics"}, // merged with its ICS twin
					"url": "https://attack.mitre.org/techniques/T1190"},
				"T1078.004": {"name": "Valid Accounts: Cloud Accounts", "tactics": []string{"defense-evasion", "persistence"},
					"url": "https://attack.mitre.org/techniques/T1078/004"},
				"T1059":  {"name": "Command and Scripting Interpreter", "tactics": []string{"execution"}, "url": "https://attack.mitre.org/techniques/T1059"},
				"TA0001": {"name": "A Tactic Id"},
			},
			warnings: []string{
				"objects[5].external_references",                // no ATT&CK id
				"objects[7].external_references[0].external_id", // TA0001
				"objects[8]",          // T1190 again
				"objects[12].revoked", // a string
				"objects[13]",         // a string
				"objects",             // revoked and deprecated
				"objects",             // mitigations
			},
			messages: []string{"2 attack-patterns revoked or deprecated (1 revoked, 1 deprecated)", "2 course-of-action objects"},
		},
		{
			file: "mobile-mini.attack.json", version: "2.1", techniques: 1,
			threats: map[string]map[string]any{
				"T1417": {"name": "Input Capture", "tactics": []string{"collection", "credential-access"}, "url": "https://attack.mitre.org/techniques/T1417"},
			},
			warnings: []string{"objects"},
			messages: []string{"1 attack-patterns revoked or deprecated (1 revoked, 0 deprecated)"},
		},
		{
			file: "nobundletype.attack.json", version: "2.1", techniques: 1,
			threats: map[string]map[string]any{
				"T1189": {"name": "Drive-by Compromise", "tactics": []string{"initial-access"}, "url": "https://attack.mitre.org/techniques/T1189"},
			},
			warnings: []string{"type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Parse(ingesttest.ReadFile(t, "testdata/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			if doc.Version != tt.version {
				t.Errorf("Version %q, want %q", doc.Version, tt.version)
			}
			if want := (ingest.Counts{Results: tt.techniques}); doc.Counts != want {
				t.Errorf("Counts %+v, want %+v", doc.Counts, want)
			}
			threats := ingesttest.NodesOf(doc, graph.LabelThreat)
			if len(threats) != len(tt.threats) || len(doc.Batch.Nodes) != len(threats) || len(doc.Batch.Edges) != 0 {
				t.Errorf("batch %+v, want threats %v", doc.Batch, tt.threats)
			}
			for id, want := range tt.threats {
				if !ingesttest.SameProps(threats[id], want) {
					t.Errorf("%s = %v, want %v", id, threats[id], want)
				}
			}
			if got := ingesttest.WarningPaths(doc); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %v, want at %v", doc.Warnings, tt.warnings)
			}
			for i, m := range tt.messages {
				if w := doc.Warnings[len(doc.Warnings)-len(tt.messages)+i]; !strings.Contains(w.Message, m) {
					t.Errorf("warning %q does not say %q", w.Message, m)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		line, col int
		msg       string
	}{
		{"empty", "\n", 0, 0, "empty document"},
		{"malformed in objects", "{\"type\": \"bundle\",\n\"objects\": [{\"type\": \"attack-pattern\"},\n {\"type\": tru}]}", 3, 14, "malformed JSON"},
		{"malformed key", "{\"type\": \"bundle\", objects: []}", 1, 20, "malformed JSON"},
		{"truncated", `{"type": "bundle", "objects": [{"type": "x"}`, 1, 45, "malformed JSON"},
		{"trailing data", `{"type": "bundle", "objects": []} {}`, 1, 35, "after top-level value"},
		{"array", `[{"type":"bundle"}]`, 1, 1, "JSON array, want a STIX bundle"},
		{"string", `"bundle"`, 1, 1, "JSON string, want a STIX bundle"},
		{"no objects", `{"type":"bundle","id":"bundle--1"}`, 0, 0, "objects array"},
		{"not a bundle", `{"type":"report","objects":[]}`, 0, 0, `type is "report"`},
		{"objects object", `{"type":"bundle","objects":{}}`, 0, 0, "objects is a JSON object, want an array"},
		{"type number", `{"type":5,"objects":[]}`, 0, 0, "type is a JSON number"},
		{"CycloneDX", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`, 0, 0, "cyclonedx document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.doc))
			if err == nil || doc != nil {
				t.Fatalf("Parse = %v, %v; want an error", doc, err)
			}
			pe := ingesttest.AsParseError(t, format, err)
			if tt.line > 0 && (pe.Line != tt.line || pe.Column != tt.col) {
				t.Errorf("at line %d, column %d; want %d, %d (%v)", pe.Line, pe.Column, tt.line, tt.col, pe)
			}
			if !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", pe.Error(), tt.msg)
			}
		})
	}
}

func TestNullObjects(t *testing.T) {
	doc, err := Parse([]byte(`{"type":"bundle","objects":null}`))
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.CheckDoc(t, format, doc)
	if len(doc.Batch.Nodes)+len(doc.Warnings) != 0 || doc.Counts != (ingest.Counts{}) {
		t.Errorf("document %+v, want an empty one", doc)
	}
}
