package oscal

import (
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// Input is one assurance case to export, with its current status. The order of every slice is
// irrelevant: Export sorts what it writes.
type Input struct {
	Case Case
	// Elements are the argument elements: Goals, Strategies, Solutions, Contexts, Assumptions
	// and Justifications (defeaters go in Defeaters).
	Elements []Element
	// Results are the current results of the elements and defeaters. Every Goal needs one.
	Results []Result
	// Evidence are the evidence items to report, normally the newest of each Solution's
	// evidence spec.
	Evidence []Evidence
	// Defeaters are the case's defeaters with their current triage.
	Defeaters []Defeater
	// Coverage maps claim (Goal) ids to the ids of the controls they COVER, such as "ac-2" or
	// "ra-5.2". Optional. Control ids must be OSCAL tokens, as catalog control ids are.
	Coverage map[string][]string
}

// Case is the case's metadata.
type Case struct {
	// Twin is the name of the twin the case belongs to; required.
	Twin string
	// ID is the case id; required.
	ID string
	// Name is the case's name; ID when empty.
	Name string
	// Version is the case's version (the import counter of the stored case); required.
	Version string
	// Generated is when the export was made: the document's last-modified time and the end of
	// its result; required.
	Generated time.Time
	// Start, when set, is the start of the assessment period. Otherwise the result starts at
	// the earliest evidence collection (or at Generated without evidence).
	Start time.Time
	// ToolVersion is the version of sectwin that computed the status; "unknown" when empty.
	ToolVersion string
	// PlanHref is where the case's generated continuous-monitoring assessment plan can be
	// fetched, if it is published. Optional: the plan is always described in back-matter.
	PlanHref string
}

// Element is an argument element of the case.
type Element struct {
	ID     string
	Kind   assurance.Kind
	Module string
	// Text is the element's statement, such as a claim; optional.
	Text string
	// About are the twin elements the element is ABOUT.
	About []Subject
	// SupportedBy are the ids of the elements supporting this one.
	SupportedBy []string
	// AwayOf, for an away element, is the id of the element (of another module) it stands
	// for. An away Goal has no finding of its own: the element it stands for has.
	AwayOf string
}

// Subject is a twin element that a claim or an evidence item is about.
type Subject struct {
	// ID is the twin element's global id; required.
	ID string
	// Label is the twin element's label (Component, Service, Deployment, Package, DataFlow…);
	// optional. A Deployment is written as an inventory item, anything else as a component.
	Label string
	// Title is a human-readable name, such as the component's name; optional.
	Title string
}

// Result is an element's or a defeater's current result, as the status engine computed it.
type Result struct {
	// Element is the id of the element or defeater.
	Element    string
	Status     assurance.Status
	Reasons    []assurance.Reason
	Confidence float64
	// StatusAt is when the result was computed.
	StatusAt time.Time
	// NextReevalAt is when the result may change without new input; zero if never.
	NextReevalAt time.Time
	// Label and Residual are a defeater's grounded label and whether it is out only because it
	// is accepted as residual risk.
	Label    assurance.Label
	Residual bool
}

// EvidenceKind is the kind of an evidence item.
type EvidenceKind string

// The evidence kinds this package knows. Others are exported with the method UNKNOWN.
const (
	// Static analysis of source code.
	EvidenceSAST EvidenceKind = "sast"
	// Vulnerability scan of an artifact or its SBOM.
	EvidenceVulnScan EvidenceKind = "vuln-scan"
	// Automated test results (unit, integration, security tests).
	EvidenceTest EvidenceKind = "test"
	// Penetration test report.
	EvidencePenTest EvidenceKind = "pen-test"
	// Monitor heartbeat: the monitor is alive and reports no alert.
	EvidenceHeartbeat EvidenceKind = "heartbeat"
	// Runtime alert from a monitor.
	EvidenceRuntimeAlert EvidenceKind = "runtime-alert"
	// VEX statement about a vulnerability (OpenVEX).
	EvidenceVEX EvidenceKind = "vex"
	// Manual attestation by a person, with a mandatory expiry.
	EvidenceAttestation EvidenceKind = "attestation"
)

// Verdict is an evidence item's verdict.
type Verdict string

// The verdicts.
const (
	VerdictPass     Verdict = "PASS"
	VerdictFail     Verdict = "FAIL"
	VerdictError    Verdict = "ERROR"
	VerdictDegraded Verdict = "DEGRADED"
)

// Evidence is one evidence item.
type Evidence struct {
	// ID is the evidence item's id; required.
	ID   string
	Kind EvidenceKind
	// Title is a short human-readable description; optional.
	Title string
	// Solution is the id of the Solution whose evidence spec the item satisfies; optional.
	Solution string
	// Subject is the twin element the evidence is about; optional.
	Subject Subject
	// SubjectDigest is the digest of the artifact the evidence is about; optional.
	SubjectDigest string
	// Collected is when the evidence was collected; required.
	Collected time.Time
	// Expires is when the evidence stops counting: min(expires, collected + window). Optional.
	Expires time.Time
	Verdict Verdict
	// Collector is what or who collected the evidence (a scanner, a monitor, a person);
	// optional.
	Collector string
	// Href is where the evidence can be fetched; optional.
	Href string
	// Digest is the SHA-256 of the evidence as fetched from Href: 64 hex digits, optionally
	// prefixed "sha256:". Optional.
	Digest string
}

// Defeater is a defeater of the case with its current triage.
type Defeater struct {
	ID     string
	Module string
	Kind   assurance.DefeaterKind
	// Text describes the doubt; optional.
	Text string
	// Source is where the defeater comes from, such as a CVE id; optional.
	Source string
	// Challenges are the ids of the elements the defeater challenges.
	Challenges  []string
	State       assurance.DefeaterState
	Severity    assurance.Severity
	Probability float64
	// Acceptance is required when State is AcceptedResidual, and ignored otherwise.
	Acceptance Acceptance
}

// Acceptance records the acceptance of a defeater as residual risk.
type Acceptance struct {
	Approver  string
	Rationale string
	// Expires is when the acceptance stops holding.
	Expires time.Time
	// ApprovedAt is when it was approved; optional. When set, the risk has a log entry for the
	// approval.
	ApprovedAt time.Time
}
