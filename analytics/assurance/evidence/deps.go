package evidence

import (
	"slices"
	"strings"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// Labels of the twin's nodes evidence reads besides the subjects'.
const (
	LabelVulnerability = "Vulnerability"
	LabelFinding       = "Finding"
	LabelScanRun       = "ScanRun"
	LabelAttestation   = "Attestation"
	LabelEdgeEvent     = "EdgeEvent"
	LabelEdgeAggregate = "EdgeAggregate"
	// AnyLabel stands for every node of the twin.
	AnyLabel = "*"
	// LabelContents is not a node label: a dependency {Contents, digest} stands for the
	// components the artifact CONTAINS, whatever they are. A change to a component matches it
	// once the caller has found the artifacts containing that component (a new vulnerability on
	// a component no vulnerability affected before matters to the no_open_vulns results about
	// those artifacts, though they never read the component).
	LabelContents = "Contents"
)

// Dependency is a node, or every node of a label, whose change may change a spec's result.
// Twin change events name the nodes written, the two ends of every relationship written
// included; a leaf is dirty when Matches finds one of them in its spec's dependencies.
type Dependency struct {
	Label string `json:"label"`         // a node label, or AnyLabel
	Key   string `json:"key,omitempty"` // its natural key; empty for every node of Label
}

// Dependencies lists what a spec reads, sorted by label then key, without repeats (so the same
// spec always gives the same list). Subjects named by key are exact dependencies; what is
// reached through relationships whose ends the spec cannot name is a whole label:
//
//   - the subject node itself (an artifact given by name: every Artifact, since its current
//     digest is a new node);
//   - no_open_vulns: every Artifact (RUNS, CONTAINS), Component (CONTAINS, AFFECTS),
//     Vulnerability (severity, KEV, EPSS, AFFECTS) and ScanRun;
//   - scan_fresh: every Artifact and ScanRun;
//   - sarif_clean: every Artifact, Finding and ScanRun;
//   - no_runtime_alerts: every Zone and Host (zone membership), EdgeEvent and EdgeAggregate;
//   - heartbeat: every EdgeEvent and EdgeAggregate;
//   - attestation: the Attestation by id (every Attestation for a topic), and every Artifact
//     when the subject has digests (service, artifact);
//   - cypher_check: AnyLabel: any change in the twin.
//
// Time alone changes results too: Result.Expires says when. An invalid spec gives nil.
func Dependencies(s Spec) []Dependency {
	if s.Validate() != nil {
		return nil
	}
	var out []Dependency
	add := func(label, key string) { out = append(out, Dependency{Label: label, Key: key}) }
	all := func(labels ...string) {
		for _, l := range labels {
			add(l, "")
		}
	}
	if s.Subject != nil {
		ref := s.Subject.Ref()
		switch {
		case ref.Label == LabelTwin:
			add(LabelTwin, "")
		case ref.Name != "":
			add(LabelArtifact, "")
		default:
			add(ref.Label, ref.Key)
		}
	}
	switch s.Kind {
	case KindNoOpenVulns:
		all(LabelArtifact, LabelComponent, LabelVulnerability, LabelScanRun)
	case KindScanFresh:
		all(LabelArtifact, LabelScanRun)
	case KindSARIFClean:
		all(LabelArtifact, LabelFinding, LabelScanRun)
	case KindNoRuntimeAlerts:
		all(LabelZone, LabelHost, LabelEdgeEvent, LabelEdgeAggregate)
	case KindHeartbeat:
		all(LabelEdgeEvent, LabelEdgeAggregate)
	case KindAttestation:
		add(LabelAttestation, s.Attestation.ID)
		if l := s.Subject.Ref().Label; l == LabelService || l == LabelArtifact {
			all(LabelArtifact)
		}
	case KindCypherCheck:
		all(AnyLabel)
	}
	return normalize(out)
}

// normalize sorts deps and drops repeats and the keyed entries a whole label covers.
func normalize(deps []Dependency) []Dependency {
	out := slices.Clone(deps)
	whole := map[string]bool{}
	for _, d := range out {
		if d.Key == "" {
			whole[d.Label] = true
		}
	}
	out = slices.DeleteFunc(out, func(d Dependency) bool {
		return whole[AnyLabel] && d.Label != AnyLabel || d.Key != "" && whole[d.Label]
	})
	slices.SortFunc(out, func(a, b Dependency) int {
		if c := strings.Compare(a.Label, b.Label); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return slices.Compact(out)
}

// Matches reports whether a change to the node label/key touches one of deps.
func Matches(deps []Dependency, label, key string) bool {
	for _, d := range deps {
		if d.Label == AnyLabel || d.Label == label && (d.Key == "" || d.Key == key) {
			return true
		}
	}
	return false
}

// Watch lists what a spec's leaf must watch after it was evaluated to r: the nodes r read
// (Result.Reads), which is much sharper than Dependencies for a spec about one service or
// component (a new CVE dirties only the leaves whose components it affects). Where the reads
// cannot name what may come to matter, Watch falls back to Dependencies: for the whole twin,
// an artifact given by name (its next digest is a new node), a cypher_check, and a result
// that failed before reading everything (an error).
//
// The reads suffice elsewhere because every write that may change such a result names a node
// read: a new RUNS or CONTAINS names the service or artifact, a vulnerability's new severity
// or KEV flag the vulnerability, a scan run its artifact, and a new AFFECTS the component,
// which the caller maps to the contents of the artifacts containing it (LabelContents). One
// imprecision is accepted: a new digest sharing a name with a service's artifacts, not yet
// run, is not watched; it can only turn EVIDENCE_MISSING into SUBJECT_CHANGED (both UNKNOWN)
// until the leaf is next evaluated.
func Watch(s Spec, r Result) []Dependency {
	if r.Reads == nil || r.Reason == assurance.EvidenceError || s.Subject == nil {
		return Dependencies(s)
	}
	if ref := s.Subject.Ref(); ref.Label == LabelTwin || ref.Name != "" {
		return Dependencies(s)
	}
	return r.Reads
}
