// Package oscal exports an assurance case with its live status as an OSCAL assessment-results
// document (JSON), for auditors. It implements the export half of section 4 ("OSCAL mapping")
// of the assurance design (assurance.md).
//
// # Input
//
// Export takes an Input of plain structs: the case's metadata, its elements (with text, module,
// SUPPORTED_BY links and the twin elements they are ABOUT), the current result of each element
// (status, reasons, confidence, when it was computed), the evidence items behind the Solutions,
// the defeaters with their triage, and which controls each claim COVERS. FromAssurance fills
// the parts the status engine (package assurance) knows; the caller adds the rest from the graph.
//
// # Mapping
//
//   - The document's import-ap, which OSCAL requires, points at a back-matter resource that
//     stands for the generated continuous-monitoring assessment plan of the case (with a link
//     to the plan when Case.PlanHref is given).
//   - There is one result: the case's status at Case.Generated. It starts at the earliest
//     evidence collection (or Case.Start) and ends at Case.Generated. Its reviewed-controls are
//     the controls covered by claims, or include-all when no coverage is given. Its
//     local-definitions define the twin elements that evidence and claims are about (as
//     components, or inventory items for deployments) and sectwin itself as the assessment tool,
//     which every observation, finding and risk names as its origin.
//   - Each evidence item is an observation: method TEST for machine-made evidence, EXAMINE for
//     statements people make (attestations, VEX), UNKNOWN for kinds this package does not know;
//     types control-objective, plus finding for a FAIL verdict and historic once expired; its
//     subject, collected and expires times; relevant-evidence pointing at a back-matter resource
//     that links the evidence and binds its SHA-256 digest.
//   - Each claim (Goal) is one finding per control it covers, or one finding targeting the claim
//     itself when it covers none. The target is satisfied only when the claim is SUPPORTED; the
//     reason is pass, fail (UNDERMINED) or other (UNKNOWN, UNDEVELOPED). OSCAL has no partially
//     satisfied state, so the four-state status, the reason codes (with their messages) and
//     culprits, the confidence and the status times go into props of namespace NS. The finding
//     relates the observations of the evidence under the claim (its SUPPORTED_BY closure) and
//     of evidence named as culprits, and the risks below.
//   - An UNDERMINED claim is a risk with status open, relating the observations of the evidence
//     blamed for it. A defeater accepted as residual risk is a risk with status
//     deviation-approved while the acceptance holds (open once it has expired), with the
//     acceptance's expiry as deadline, its approver as a party and, when the approval time is
//     known, a risk-log entry recording the approval.
//
// # Determinism
//
// Every uuid is a name-based UUIDv5 (RFC 9562) in namespace Namespace, derived from stable
// inputs (twin, case and element, evidence or defeater ids), so the same subject keeps its uuid
// across exports and revisions. Everything is sorted and times are RFC 3339 in UTC, so exporting
// the same input twice, in whatever order its slices come, gives the same bytes.
//
// # Why own OSCAL types
//
// The design names github.com/defenseunicorns/go-oscal for the OSCAL types, but the Go module
// proxy this project builds from does not serve it ("403 Forbidden: This module version is not
// available"). The package therefore declares the minimal typed structs of OSCAL 1.1.x
// assessment-results it writes (oscal.go), with the field names and required fields of the
// NIST JSON schema.
//
// The documents declare OSCAL 1.1.3 (OSCALVersion). The design note cites 1.2.2; everything
// written here has the same shape in 1.2.x (the golden files in testdata were checked against
// models generated from NIST's JSON schemas of both 1.1.3 and 1.2.1), so moving to 1.2.x is a
// matter of changing OSCALVersion. The Go tests cannot validate against the JSON schema itself:
// the module has no JSON-schema validator, so they check the structure the schema requires.
package oscal
