package attacks

import (
	"testing"

	"github.com/sectwin/sectwin/analytics/attackanalysis"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/events"
)

func TestClassify(t *testing.T) {
	alert := graph.NodeRef{Label: graph.LabelAlert, Key: "k"}
	host := graph.NodeRef{Label: graph.LabelHost, Key: "web-1"}
	for _, tc := range []struct {
		name string
		c    events.Change
		want attackanalysis.ChangeKind
	}{
		{"a manifest write", events.Change{Twin: "t", Op: events.OpApply, Source: "manifest"}, attackanalysis.ModelChanged},
		{"an upsert through GraphQL", events.Change{Twin: "t", Op: events.OpUpsert, Source: "graphql", Nodes: []graph.NodeRef{host}}, attackanalysis.ModelChanged},
		{"a quarantine by a playbook", events.Change{Twin: "t", Op: "QUARANTINE", Source: "playbook:x", Nodes: []graph.NodeRef{host}}, attackanalysis.ModelChanged},
		{"a telemetry window with alerts and connections", events.Change{Twin: "t", Op: events.OpUpsert, Source: "telemetry", Nodes: []graph.NodeRef{host, alert}}, attackanalysis.ObservationsChanged},
		{"detected anomalies", events.Change{Twin: "t", Op: events.OpUpsert, Source: "anomaly", Nodes: []graph.NodeRef{{Label: graph.LabelAnomaly, Key: "a"}, host}}, attackanalysis.ObservationsChanged},
		{"a telemetry window with a deploy", events.Change{Twin: "t", Op: events.OpUpsert, Source: "telemetry",
			Nodes: []graph.NodeRef{{Label: graph.LabelService, Key: "portal"}, {Label: graph.LabelArtifact, Key: "sha256:x"}}}, attackanalysis.ModelChanged},
		{"a truncated telemetry window may hide a deploy", events.Change{Twin: "t", Op: events.OpUpsert, Source: "telemetry", Nodes: []graph.NodeRef{host}, Truncated: true}, attackanalysis.TelemetryChanged},
		{"a twin deleted", events.Change{Twin: "t", Op: events.OpTwinDeleted, Source: "telemetry"}, attackanalysis.ModelChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.c); got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
		})
	}
}
