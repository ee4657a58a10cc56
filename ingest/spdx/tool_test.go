package spdx

import "testing"

func TestTool(t *testing.T) {
	cases := []struct {
		name, creationInfo, want string
	}{
		{"syft", `{"created": "2024-01-01T00:00:00Z", "creators": ["Organization: Anchore, Inc", "Tool: syft-1.2.0"]}`, "syft"},
		{"v prefix", `{"creators": ["Tool: cdxgen-v9.9.0"]}`, "cdxgen"},
		{"hyphenated name", `{"creators": ["Tool: ScanCode-toolkit-32.0.8"]}`, "ScanCode-toolkit"},
		{"no version", `{"creators": ["Tool: spdx-sbom-generator-source-code"]}`, "spdx-sbom-generator-source-code"},
		{"space before version", `{"creators": ["tool:  trivy 0.50.1 "]}`, "trivy"},
		{"first tool", `{"creators": ["Person: alice", "Tool: ", "Tool: first-1", "Tool: second-2"]}`, "first"},
		{"only a version", `{"creators": ["Tool: 1.2.3"]}`, "1.2.3"},
		{"no tool", `{"creators": ["Organization: Example"]}`, ""},
		{"creators not a list", `{"creators": {"tool": "x"}}`, ""},
		{"creators a string", `{"creators": "Tool: syft-1.0"}`, "syft"},
		{"creators mixed", `{"creators": [5, null, "Tool: x-1"]}`, "x"},
		{"no creation info", `null`, ""},
		{"creation info not an object", `"Tool: syft"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(`{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x", "creationInfo": ` + c.creationInfo + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Tool != c.want || !doc.KnowledgeAsOf.IsZero() {
				t.Errorf("Tool %q, KnowledgeAsOf %v; want %q and unknown", doc.Tool, doc.KnowledgeAsOf, c.want)
			}
		})
	}
}
