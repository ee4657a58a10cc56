// Package evidence evaluates declarative evidence specs against the twin and produces the leaf
// results of analytics/assurance: it is what a Solution's EvidenceSpec means. It reads the twin
// through the small Store interface (tests use an in-memory fake) and knows nothing of Neo4j.
// Package graph implements the Store methods the twin's model supports today (DB.EvidenceSubject,
// DB.EvidenceExposures, DB.EvidenceFindings, DB.EvidenceEvents, DB.LatestRelease,
// DB.ExplainCypher, DB.RunCypher); ScanRuns and Attestations wait for the twin to record scan
// runs and attestations.
//
// # Specs
//
// A Spec is written in YAML or JSON (ParseYAML, ParseJSON; snake_case fields, unknown fields
// refused) and checked by Validate, which names every field at fault. Every spec has a kind
// and a window; most have a subject, which is the twin, a service, an artifact (by digest, or
// by name with a stage), a component (purl), a host, a zone or a datastore:
//
//	id: payment-api-no-high-vulns
//	kind: no_open_vulns
//	subject: {service: payment-api}
//	window: 7d
//	scan: [trivy, grype]
//	vulns: {min_severity: HIGH, min_epss: 0.1}
//
// The kinds:
//
//   - no_open_vulns: no open vulnerability meeting vulns (severity, optionally KEV only and a
//     minimum EPSS) on the components of the subject's current digests, VEX honoured
//     (not_affected and fixed close a vulnerability; affected, under_investigation and no
//     statement leave it open). The evidence is the newest selected scan of each current
//     digest; FAIL names the vulnerabilities; KNOWLEDGE_STALE when the twin learnt of a
//     counting vulnerability after the scan's knowledge.
//   - scan_fresh: a selected scan of each current digest within the window.
//   - sarif_clean: no open finding of a rule family (rule id prefixes or tags, optionally a
//     minimum severity) reported by the newest selected SARIF scan of each current digest.
//   - no_runtime_alerts: no runtime event (EdgeEvent) within the window, describing the subject
//     or its zone, whose JSON field names an alert kind; and a live heartbeat from the
//     monitor, since silence is not success (MONITOR_SILENT).
//   - heartbeat: the monitor (an edge collector site, optionally one pipeline) released
//     something within the window.
//   - attestation: a manual Attestation (by id, or the newest of a topic) about the subject,
//     SUPPORTED until its mandatory expiry (or at + window), then EVIDENCE_STALE.
//   - cypher_check: a read-only, bounded, parameterised Cypher query over the twin returns no
//     rows (or some). Accept verifies it before it is stored: CheckCypher without a database,
//     CheckPlan on Neo4j's EXPLAIN (read-only statement type, no LOAD CSV or procedure calls,
//     no unbounded expansion). It runs in a read transaction with a time budget and a row
//     limit. Refusals wrap ErrNotReadOnly or ErrUnbounded.
//
// # Subjects and digests
//
// Evidence is about digests: a scan or an attestation of an older digest of the subject does
// not support a claim about the current one (SUBJECT_CHANGED). The current digests are the
// artifact's own digest; for an artifact given by name, the newest digest with that name
// (stage build, the default, for dev claims) or every digest with that name a service RUNS
// (stage running, for ops claims); for a service, the artifacts it RUNS; for the twin, the
// newest digest of every artifact name (build) or every digest a service RUNS (running); for a
// component, the artifacts that CONTAIN it, of which one scan suffices. Older digests are the
// other artifacts with the same name first seen before a current one; evidence about a newer
// digest only is EVIDENCE_MISSING, not SUBJECT_CHANGED.
//
// # Results
//
// Evaluate applies the design's leaf rules (assurance.md §3; see Evaluate) and returns a
// Result: verdict, status, reason code, culprits (global ids of what fails the spec or of the
// evidence at fault), confidence (assurance.LeafConfidence × DegradedFactor for DEGRADED, 0
// when UNKNOWN) and Expires, the instant time alone changes the result (evidence collected +
// window, an attestation's expiry, a heartbeat deadline, the newest alert leaving the window).
// Result.LeafResult converts it for assurance.Evaluator. Dependencies lists the twin nodes a
// spec reads, so that change events mark the right leaves dirty.
//
// # Decisions
//
// Where the design is silent or ambiguous, this package decides:
//
//   - Knowledge staleness is narrowed to what can change the verdict: only an open
//     vulnerability meeting the criteria, learnt by the twin (AFFECTS firstSeen) after the
//     scan's knowledge of a digest containing it, makes evidence KNOWLEDGE_STALE; and when the
//     evidence already fails on what the scan knew, FAIL wins over KNOWLEDGE_STALE (newer
//     knowledge cannot make it pass). Evidence staleness (rule 2) still comes first, so a
//     result computed now agrees with one the engine let expire.
//   - A scan's knowledge is what the twin knew when the scan was taken in (or the scanner's
//     advisory data, when later): a vulnerability the twin already knew of is a FAIL, not
//     KNOWLEDGE_STALE, even if the scanner's database predates it; the twin knows it is
//     open. This also keeps a scan's own findings, whose AFFECTS are written just before the
//     scan run is recorded, from making it stale.
//   - Vulnerabilities without a severity are rated by CVSS; without either (and without EPSS
//     when min_epss is set) they count unless vulns.ignore_unrated: what cannot be shown to
//     be below the bar is not. Findings without a rated severity count too.
//   - A FAIL of no_runtime_alerts wins over a silent monitor: an alert is positive evidence
//     whether or not the monitor is still alive. A PASS expires into MONITOR_SILENT when the
//     heartbeat is due.
//   - A cypher_check result is live: collected when it ran, it holds for the window; its
//     dependencies are the whole twin. Its culprits are the twin's nodes the rows return.
//   - An attestation is checked by Attestation.Validate before it is stored and again when it
//     is evaluated: one without an expiry (or with an unknown verdict) gives EVIDENCE_ERROR,
//     never SUPPORTED.
//   - CheckCypher errs on the side of refusal: a forbidden keyword used as a bare variable or
//     alias (RETURN n.x AS create) is refused; quote it (`create`). Keywords inside strings,
//     comments, property keys, labels and map keys are not keywords.
//   - Culprits are capped at MaxCulprits, most severe first; Result.Omitted counts the rest.
//   - Evaluate returns an EVIDENCE_ERROR result and the error when the spec is invalid or the
//     store fails, so that a caller may keep the previous result during an outage.
package evidence
