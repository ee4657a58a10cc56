package assurance

import (
	"fmt"
	"strings"
	"time"
)

// Status is the computed status of an element. Its numeric order is the severity order of
// the design (SUPPORTED < UNDEVELOPED < UNKNOWN < UNDERMINED), so the worse of two statuses
// is their maximum. The zero Status is not a status: it is what an element has before its
// first evaluation.
type Status uint8

// The statuses, in severity order.
const (
	// Supported: the claim holds on current, valid evidence.
	Supported Status = iota + 1
	// Undeveloped: the argument is structurally incomplete.
	Undeveloped
	// Unknown: we cannot tell right now (evidence missing, stale, errored or challenged, or
	// a defeater untriaged).
	Unknown
	// Undermined: there is positive evidence against the claim, or an effective rebutting
	// defeater.
	Undermined
)

var statusNames = [...]string{Supported: "SUPPORTED", Undeveloped: "UNDEVELOPED", Unknown: "UNKNOWN", Undermined: "UNDERMINED"}

// String returns the status's name, such as "SUPPORTED", or "" for the zero Status.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

func (s Status) valid() bool { return s >= Supported && s <= Undermined }

// MarshalText encodes the status as its name ("" for the zero Status).
func (s Status) MarshalText() ([]byte, error) {
	if s != 0 && !s.valid() {
		return nil, fmt.Errorf("assurance: invalid status %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a status name; "" decodes to the zero Status.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("assurance: unknown status %q", b)
}

// Code is a reason code: why an element has the status it has.
type Code uint8

// The reason codes. The first fifteen are those of the design; AssumptionUnknown and
// ResidualAccepted are additions of this package (see the package documentation).
const (
	// EvidenceMissing: a Solution has no evidence about the current subject.
	EvidenceMissing Code = iota + 1
	// SubjectChanged: the only evidence is about an older subject digest.
	SubjectChanged
	// EvidenceStale: the evidence is past its expiry or window.
	EvidenceStale
	// KnowledgeStale: the evidence predates newer knowledge, such as a newer advisory.
	KnowledgeStale
	// EvidenceFail: the evidence's verdict is FAIL.
	EvidenceFail
	// EvidenceError: the evidence's verdict is ERROR.
	EvidenceError
	// EvidenceDegraded: the evidence's verdict is DEGRADED.
	EvidenceDegraded
	// MonitorSilent: a monitor missed its heartbeat.
	MonitorSilent
	// AssumptionViolated: a Context or Assumption predicate is false.
	AssumptionViolated
	// Defeated: a sustained rebutting defeater is in force (IN).
	Defeated
	// InferenceChallenged: a sustained undercutting defeater is in force (IN).
	InferenceChallenged
	// EvidenceChallenged: a sustained undermining defeater is in force (IN).
	EvidenceChallenged
	// DefeaterOpen: a defeater is untriaged or undecided (UNDEC).
	DefeaterOpen
	// SuspectLink: a supporting element changed since its link was reviewed.
	SuspectLink
	// NotDeveloped: an element is marked undeveloped or has no support.
	NotDeveloped
	// AssumptionUnknown: whether a Context or Assumption predicate holds is unknown.
	AssumptionUnknown
	// ResidualAccepted: a defeater is out only because it is accepted as residual risk.
	ResidualAccepted

	numCodes = iota + 1
)

var codeNames = [numCodes]string{
	EvidenceMissing:     "EVIDENCE_MISSING",
	SubjectChanged:      "SUBJECT_CHANGED",
	EvidenceStale:       "EVIDENCE_STALE",
	KnowledgeStale:      "KNOWLEDGE_STALE",
	EvidenceFail:        "EVIDENCE_FAIL",
	EvidenceError:       "EVIDENCE_ERROR",
	EvidenceDegraded:    "EVIDENCE_DEGRADED",
	MonitorSilent:       "MONITOR_SILENT",
	AssumptionViolated:  "ASSUMPTION_VIOLATED",
	Defeated:            "DEFEATED",
	InferenceChallenged: "INFERENCE_CHALLENGED",
	EvidenceChallenged:  "EVIDENCE_CHALLENGED",
	DefeaterOpen:        "DEFEATER_OPEN",
	SuspectLink:         "SUSPECT_LINK",
	NotDeveloped:        "NOT_DEVELOPED",
	AssumptionUnknown:   "ASSUMPTION_UNKNOWN",
	ResidualAccepted:    "RESIDUAL_ACCEPTED",
}

// codePhrases are the plain-language openings of reason messages; the culprits follow.
var codePhrases = [numCodes]string{
	EvidenceMissing:     "no evidence about the current subject",
	SubjectChanged:      "evidence is about a subject digest that is no longer current",
	EvidenceStale:       "evidence is past its expiry or window",
	KnowledgeStale:      "evidence predates newer vulnerability knowledge",
	EvidenceFail:        "evidence verdict is FAIL",
	EvidenceError:       "evidence verdict is ERROR",
	EvidenceDegraded:    "evidence verdict is DEGRADED",
	MonitorSilent:       "monitor missed its heartbeat",
	AssumptionViolated:  "context or assumption does not hold",
	Defeated:            "rebutting defeater is in force",
	InferenceChallenged: "undercutting defeater challenges the inference",
	EvidenceChallenged:  "undermining defeater challenges the evidence",
	DefeaterOpen:        "defeater is untriaged or undecided",
	SuspectLink:         "link not reviewed since the supporting element changed (link ends)",
	NotDeveloped:        "argument is not developed",
	AssumptionUnknown:   "whether context or assumption holds is unknown",
	ResidualAccepted:    "defeater is accepted as residual risk",
}

// String returns the code's name, such as "EVIDENCE_FAIL".
func (c Code) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", uint8(c))
}

func (c Code) valid() bool { return c > 0 && int(c) < numCodes }

// MarshalText encodes the code as its name.
func (c Code) MarshalText() ([]byte, error) {
	if !c.valid() {
		return nil, fmt.Errorf("assurance: invalid reason code %d", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText decodes a code name.
func (c *Code) UnmarshalText(b []byte) error {
	for i, n := range codeNames {
		if i > 0 && n == string(b) {
			*c = Code(i)
			return nil
		}
	}
	return fmt.Errorf("assurance: unknown reason code %q", b)
}

// Reason explains a status: a code, a plain-language message naming the culprits, and the
// culprits themselves, sorted. Culprits are root causes rather than intermediate elements:
// the Solutions, Contexts, Assumptions and Defeaters where the reason arises (plus the ids a
// caller attached to a leaf result, such as evidence or advisory ids), and for a suspect
// link its parent and child. The message depends only on the code and the culprits.
type Reason struct {
	Code     Code     `json:"code"`
	Message  string   `json:"message"`
	Culprits []string `json:"culprits"`
}

// maxNamed is how many culprits a message names before summarising the rest.
const maxNamed = 8

func newReason(c Code, culprits []string) Reason {
	return Reason{Code: c, Message: message(c, culprits), Culprits: culprits}
}

func message(c Code, culprits []string) string {
	var b strings.Builder
	b.WriteString(codePhrases[c])
	b.WriteString(": ")
	for i, id := range culprits {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(culprits)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(id)
	}
	return b.String()
}

// Label is a defeater's label in the grounded labelling of the attack graph.
type Label uint8

// The labels. The zero Label is not a label: it is what non-defeater elements carry.
const (
	// In: the defeater is effective: none of its attackers counts.
	In Label = iota + 1
	// Out: the defeater is refuted (an attacker counts), or triaged as refuted or accepted.
	Out
	// Undec: undecided, for instance on an attack cycle.
	Undec
)

var labelNames = [...]string{In: "IN", Out: "OUT", Undec: "UNDEC"}

// String returns the label's name, such as "IN", or "" for the zero Label.
func (l Label) String() string {
	if int(l) < len(labelNames) {
		return labelNames[l]
	}
	return fmt.Sprintf("Label(%d)", uint8(l))
}

// MarshalText encodes the label as its name ("" for the zero Label).
func (l Label) MarshalText() ([]byte, error) {
	if int(l) >= len(labelNames) {
		return nil, fmt.Errorf("assurance: invalid label %d", uint8(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText decodes a label name; "" decodes to the zero Label.
func (l *Label) UnmarshalText(b []byte) error {
	for i, n := range labelNames {
		if n == string(b) {
			*l = Label(i)
			return nil
		}
	}
	return fmt.Errorf("assurance: unknown label %q", b)
}

// Result is the computed state of one element.
//
// For a Defeater, Label is its grounded label and Residual reports that it is OUT only
// because it is accepted as residual risk; Status, Reasons and Confidence then describe the
// effect the defeater exerts on every element it challenges (SUPPORTED with no reason when
// it exerts none, and Confidence is the factor it multiplies their confidence by).
type Result struct {
	Status   Status   `json:"status"`
	Label    Label    `json:"label,omitzero"`
	Residual bool     `json:"residual,omitzero"`
	Reasons  []Reason `json:"reasons,omitempty"`
	// Confidence in [0, 1] is secondary: it never overrides Status.
	Confidence float64 `json:"confidence"`
	// NextReevalAt is the earliest expiry, among the inputs this result depends on, that
	// has not passed yet: the status may change then without any new input. Zero if none.
	NextReevalAt time.Time `json:"nextReevalAt,omitzero"`
}

// Equal reports whether r and o are identical, reasons included.
func (r Result) Equal(o Result) bool {
	return r.Status == o.Status && r.Label == o.Label && r.Residual == o.Residual &&
		r.Confidence == o.Confidence && r.NextReevalAt.Equal(o.NextReevalAt) && reasonsEqual(r.Reasons, o.Reasons)
}

// clone returns r with its slices copied, so the caller cannot modify shared state.
func (r Result) clone() Result {
	if r.Reasons == nil {
		return r
	}
	rs := make([]Reason, len(r.Reasons))
	for i, x := range r.Reasons {
		x.Culprits = append([]string(nil), x.Culprits...)
		rs[i] = x
	}
	r.Reasons = rs
	return r
}

func reasonsEqual(a, b []Reason) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if a[i].Code != b[i].Code || !stringsEqual(a[i].Culprits, b[i].Culprits) {
			return false
		}
	}
	return true
}

func stringsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ElementResult is an element's id with its result.
type ElementResult struct {
	ID string `json:"id"`
	Result
}
