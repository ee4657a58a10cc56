package cyclonedx

import "testing"

func TestTool(t *testing.T) {
	cases := []struct {
		name, metadata, want string
	}{
		{"1.4 array", `{"tools": [{"vendor": "anchore", "name": "syft", "version": "0.80.0"}, {"name": "other"}]}`, "syft"},
		{"1.5 components", `{"tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "0.50.1"}]}}`, "trivy"},
		{"1.5 services only", `{"tools": {"services": [{"name": " sbom-service "}]}}`, "sbom-service"},
		{"nameless first", `{"tools": [{"vendor": "x"}, 5, {"name": 7}, {"name": "cdxgen"}]}`, "cdxgen"},
		{"no tools", `{"component": {"type": "application", "name": "app"}}`, ""},
		{"tools not a list", `{"tools": "syft"}`, ""},
		{"components not a list", `{"tools": {"components": {"name": "syft"}}}`, ""},
		{"empty", `{"tools": []}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse([]byte(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "metadata": ` + c.metadata + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Tool != c.want || !doc.KnowledgeAsOf.IsZero() {
				t.Errorf("Tool %q, KnowledgeAsOf %v; want %q and unknown", doc.Tool, doc.KnowledgeAsOf, c.want)
			}
		})
	}
}
