package trivy

import "testing"

func TestTool(t *testing.T) {
	for _, data := range []string{
		`{"SchemaVersion": 2, "ArtifactName": "app:1", "ArtifactType": "container_image", "Results": []}`,
		`{"SchemaVersion": 2, "Trivy": {"Version": "0.58.1"}, "CreatedAt": "2025-01-01T00:00:00Z", "ArtifactName": ".", "ArtifactType": "filesystem", "Results": []}`,
	} {
		doc, err := Parse([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if doc.Tool != "Trivy" || !doc.KnowledgeAsOf.IsZero() {
			t.Errorf("%s: Tool %q, KnowledgeAsOf %v; want Trivy and unknown", data, doc.Tool, doc.KnowledgeAsOf)
		}
	}
}
