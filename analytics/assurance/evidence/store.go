package evidence

import (
	"context"
	"strings"
	"time"
)

// Labels of the twin elements a spec can be about (the graph's labels).
const (
	LabelTwin      = "Twin"
	LabelService   = "Service"
	LabelArtifact  = "Artifact"
	LabelComponent = "Component"
	LabelHost      = "Host"
	LabelZone      = "Zone"
	LabelDataStore = "DataStore"
)

// subjectField is the Subject field of each label.
var subjectField = map[string]string{LabelTwin: "twin", LabelService: "service", LabelArtifact: "artifact",
	LabelComponent: "component", LabelHost: "host", LabelZone: "zone", LabelDataStore: "datastore"}

// SubjectRef is a Subject as the store looks it up: a label with a natural key (name, digest,
// purl), or for an artifact given by name, the name. The twin has neither.
type SubjectRef struct {
	Label string
	Key   string
	Name  string
}

// Ref returns the reference of a valid subject.
func (s Subject) Ref() SubjectRef {
	switch {
	case s.Twin:
		return SubjectRef{Label: LabelTwin}
	case s.Service != "":
		return SubjectRef{Label: LabelService, Key: s.Service}
	case s.Artifact != "":
		if strings.HasPrefix(s.Artifact, "sha256:") || strings.HasPrefix(s.Artifact, "sha512:") {
			return SubjectRef{Label: LabelArtifact, Key: s.Artifact}
		}
		return SubjectRef{Label: LabelArtifact, Name: s.Artifact}
	case s.Component != "":
		return SubjectRef{Label: LabelComponent, Key: s.Component}
	case s.Host != "":
		return SubjectRef{Label: LabelHost, Key: s.Host}
	case s.Zone != "":
		return SubjectRef{Label: LabelZone, Key: s.Zone}
	case s.DataStore != "":
		return SubjectRef{Label: LabelDataStore, Key: s.DataStore}
	}
	return SubjectRef{}
}

func (r SubjectRef) String() string {
	switch {
	case r.Label == LabelTwin:
		return "the twin"
	case r.Name != "":
		return "Artifact named " + r.Name
	}
	return r.Label + " " + r.Key
}

// Store is what evaluation reads from the twin; tests use an in-memory fake. Ids in facts are the twin's global ids, which results pass on as culprits.
// Every method reads one twin only.
type Store interface {
	// Subject resolves a subject: whether it exists, its global id, and the artifacts that
	// matter for it (see ArtifactFact).
	Subject(ctx context.Context, twin string, s SubjectRef) (SubjectFacts, error)
	// ScanRuns returns, for each of these artifacts (by digest), the newest scan run of each
	// format and tool among formats.
	ScanRuns(ctx context.Context, twin string, artifacts, formats []string) ([]ScanRun, error)
	// Exposures returns every AFFECTS of a vulnerability to a component in scope, whatever its
	// VEX status.
	Exposures(ctx context.Context, twin string, scope ExposureScope) ([]Exposure, error)
	// Findings returns the findings FOUND_IN these artifacts (by digest) that one of these
	// provenance sources reported, whatever their status.
	Findings(ctx context.Context, twin string, artifacts, sources []string) ([]Finding, error)
	// Events calls fn for every runtime event (EdgeEvent) received after q.Since that describes
	// q.Subject or its zone (every event of the twin for the twin), until fn returns an error.
	Events(ctx context.Context, twin string, q EventQuery, fn func(Event) error) error
	// LatestRelease returns when the newest EdgeEvent or EdgeAggregate of the site (and
	// pipeline, when not empty) was received; zero when there is none.
	LatestRelease(ctx context.Context, twin, site, pipeline string) (time.Time, error)
	// Attestations returns the attestation with q.ID, or every attestation with q.Topic.
	Attestations(ctx context.Context, twin string, q AttestationQuery) ([]Attestation, error)
	// ExplainCypher plans q as it would run (with $twin and its row limit) without running it.
	ExplainCypher(ctx context.Context, twin string, q CypherQuery) (CypherPlan, error)
	// RunCypher plans q, lets accept refuse the plan, and only then runs it in a read
	// transaction with q.Timeout and a limit of q.MaxRows rows.
	RunCypher(ctx context.Context, twin string, q CypherQuery, accept func(CypherPlan) error) (CypherRows, error)
}

// SubjectFacts is what the store knows about a subject.
type SubjectFacts struct {
	Found bool
	// ID is the subject's global id; empty for an artifact given by name (evaluation picks
	// its current digest among Artifacts).
	ID string
	// Artifacts are the artifacts evidence about the subject may be about:
	//   - artifact by digest: that artifact (Direct) and the others with its name;
	//   - artifact by name: every artifact with that name;
	//   - service: the artifacts it RUNS (Direct) and the others sharing their names;
	//   - component: the artifacts that CONTAIN it (Direct);
	//   - twin: every artifact;
	//   - host, zone, datastore: none.
	Artifacts []ArtifactFact
}

// ArtifactFact is one artifact (a digest) of a subject.
type ArtifactFact struct {
	ID        string // global id
	Key       string // digest: the artifact's key
	Name      string
	FirstSeen time.Time
	Running   bool // some Service RUNS it
	Direct    bool // see SubjectFacts.Artifacts
}

// ScanRun is one scan of an artifact: a successful ingest of a scanner's or SBOM generator's
// document about it.
type ScanRun struct {
	ID       string // global id
	Format   string // ingest format: trivy, grype, sarif, cyclonedx, spdx
	Tool     string // the tool that produced it, as the document names it ("Semgrep OSS")
	Artifact string // digest of the artifact scanned
	Source   string // provenance source of what the ingest wrote ("trivy:sha256:…")
	// Collected is when the scan was taken in; KnowledgeAsOf how current the scanner's
	// advisory data was (zero when unknown). The evidence knows what the twin knew at
	// Collected, or at KnowledgeAsOf when that is later.
	Collected, KnowledgeAsOf time.Time
}

// knowledge is how current a scan's evidence is: what the twin knew when the scan was taken in
// (Collected), or the scanner's own knowledge when that is later. A vulnerability the twin knew
// of by then counts as known to the evidence, the ones the scan itself reported included (their
// AFFECTS are written just before the scan run is recorded); only one learnt afterwards makes
// a clean scan KNOWLEDGE_STALE.
func (s ScanRun) knowledge() time.Time {
	if s.KnowledgeAsOf.After(s.Collected) {
		return s.KnowledgeAsOf
	}
	return s.Collected
}

// ExposureScope is the components Exposures reads: those the artifacts CONTAIN, or one.
type ExposureScope struct {
	Artifacts []string // digests
	Component string   // a purl, instead
}

// Exposure is one vulnerability affecting one component.
type Exposure struct {
	Vulnerability   string // global id
	VulnerabilityID string // CVE-…, GHSA-…
	Severity        string
	CVSS, EPSS      *float64
	KEV             bool
	Status          string // VEX status of the AFFECTS: affected, not_affected, fixed, under_investigation or empty
	Component       string // purl
	// Artifacts are the scope artifacts (digests) containing the component.
	Artifacts []string
	// KnownSince is when the twin learnt that the vulnerability affects the component (the
	// AFFECTS relationship's firstSeen); zero when unknown.
	KnownSince time.Time
}

// Finding is one scanner result on an artifact.
type Finding struct {
	ID       string // global id
	RuleID   string
	Tool     string
	Severity string
	Status   string // OPEN, FIXED, SUPPRESSED
	Tags     []string
	Artifact string   // digest of the artifact it was FOUND_IN
	Sources  []string // its provenance sources among those asked for
}

// EventQuery selects runtime events.
type EventQuery struct {
	Subject SubjectRef
	Since   time.Time // received strictly after
	// Contains, when not empty, lets the store skip events whose JSON, lower-cased, contains
	// none of these (lower-case) strings; evaluation checks the events it gets exactly.
	Contains []string
}

// Event is one runtime event an edge collector released.
type Event struct {
	ID       string // global id
	At       time.Time
	Data     string // the released JSON
	Site     string
	Pipeline string
}

// AttestationQuery selects attestations by id or by topic.
type AttestationQuery struct {
	ID, Topic string
}

// Attestation is a manual statement about a subject, valid until it expires.
type Attestation struct {
	ID       string // its id within the twin
	GlobalID string
	Subject  string // global id of what it is about
	// SubjectDigest, when set, is the digest the statement was made about (for a service, the
	// digest it ran then).
	SubjectDigest string
	Topic         string
	By            string
	Statement     string
	Verdict       Verdict // PASS when empty
	At            time.Time
	Expires       time.Time // mandatory
}

// Validate checks an attestation before it is stored, and again when it is evaluated: it needs
// an id, a subject, when it was made and an expiry after that (the design makes expiry
// mandatory: manual evidence never holds forever), and a verdict of PASS (or empty), FAIL,
// DEGRADED or ERROR. It returns ValidationErrors wrapping ErrInvalid, or nil.
func (a Attestation) Validate() error {
	var p problems
	checkName(&p, "id", a.ID)
	checkName(&p, "subject", a.Subject)
	if a.At.IsZero() {
		p.bad("at", "required: when the statement was made")
	}
	switch {
	case a.Expires.IsZero():
		p.bad("expires", "required: an attestation must expire")
	case !a.At.IsZero() && !a.Expires.After(a.At):
		p.bad("expires", "%s is not after at (%s)", a.Expires.UTC().Format(time.RFC3339), a.At.UTC().Format(time.RFC3339))
	}
	switch a.Verdict {
	case "", Pass, Fail, Degraded, Error:
	default:
		p.bad("verdict", "%q is not PASS, FAIL, DEGRADED or ERROR", clip(string(a.Verdict)))
	}
	return p.err()
}

// CypherQuery is a cypher_check query as the store runs it.
type CypherQuery struct {
	Query   string
	Params  map[string]any // the declared parameters; the store adds $twin
	MaxRows int
	Timeout time.Duration
}

// StatementReadOnly is the statement type Neo4j's EXPLAIN gives a read-only query.
const StatementReadOnly = "READ_ONLY"

// CypherPlan is what EXPLAIN says about a query.
type CypherPlan struct {
	// StatementType is READ_ONLY, READ_WRITE, WRITE_ONLY, SCHEMA_WRITE or UNKNOWN.
	StatementType string
	// Operators are the plan's operators, depth first, with their details
	// ("VarLengthExpand(All)", "(a)-[anon_0*..3]->(b)").
	Operators []PlanOperator
}

// PlanOperator is one operator of a plan.
type PlanOperator struct {
	Name, Details string
}

// CypherRows is what a cypher_check query returned.
type CypherRows struct {
	Rows      int  // at most MaxRows
	Truncated bool // there were more
	// Culprits are the global ids of the twin's nodes the rows returned (as nodes, or as global
	// id strings).
	Culprits []string
}
