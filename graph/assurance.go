package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Assurance cases in the graph (docs/assurance.md): an AssuranceCase node per case and twin,
// one GsnElement node per element (Goals, Strategies, Solutions, Contexts, Assumptions,
// Justifications and Defeaters, told apart by type), SUPPORTED_BY, IN_CONTEXT_OF, CHALLENGES
// and REFUTES relationships between them, ABOUT relationships to the twin elements claims are
// about, and append-only StatusChange nodes for the history.

// Labels of assurance cases.
const (
	LabelAssuranceCase = "AssuranceCase"
	LabelGsnElement    = "GsnElement"
	LabelStatusChange  = "StatusChange"
)

// ErrBadCase marks a case the graph refuses as it is (a link to an unknown element, an ABOUT
// target of an unknown kind).
var ErrBadCase = errors.New("bad assurance case")

// ErrCaseChanged marks a save refused because another version of the case was stored after the
// one the edit started from (AssuranceCase.Replaces): read the case again and redo the edit.
var ErrCaseChanged = errors.New("the assurance case changed since it was read")

// AssuranceCase is one case as stored.
type AssuranceCase struct {
	Twin, ID, Name string
	Version        int // incremented by each import
	SourceFormat   string
	SourceHash     string // SHA-256 of the imported files
	Source         string // the imported document (gsn2x YAML files as JSON), kept for export
	ImportedAt     time.Time
	ImportedBy     string
	Elements       []CaseElement
	// Replaces, when not zero, is the stored version an edit of the case started from:
	// SaveAssuranceCase stores it only if that is still the stored version (else
	// ErrCaseChanged), so that concurrent edits do not lose each other's changes. Zero stores
	// it whatever the stored version (an import).
	Replaces int
}

// CaseElement is one element of a case and its outgoing links.
type CaseElement struct {
	ID, Type, Module, Text string
	Undeveloped            bool
	Mode                   string // ALL, ANY or K_OF_N (Goals and Strategies)
	K                      int
	Evidence               string // a Solution's evidence spec (JSON); a Context or Assumption's predicate
	Defeater               *CaseDefeater
	SupportedBy            []string
	InContextOf            []string
	Challenges             []string // a defeater's targets
	Refutes                []string // defeaters this claim refutes
	About                  []NodeRef
	// Layers are gsn2x keys sectwin does not interpret, as JSON, kept for the round trip.
	Layers string
}

// CaseDefeater is a defeater's kind and triage.
type CaseDefeater struct {
	Kind, State, Severity string
	KEV                   bool
	Probability           float64
	Approver, Rationale   string
	Expires               time.Time
}

// CaseStatus is an element's computed status.
type CaseStatus struct {
	Element      string
	Status       string
	Reasons      string // JSON of the reasons (code, message, culprits)
	Confidence   float64
	At           time.Time
	NextReevalAt time.Time
}

// StatusChange is one entry of the status history.
type StatusChange struct {
	Twin, Case, Element string
	From, To            string
	Reasons             string // JSON
	Cause               string // JSON: the inputs or expiries that caused it
	At                  time.Time
}

// SaveAssuranceCase stores a case whole, replacing the previous version of the same case id in
// one transaction: elements no longer in it are deleted (with their links), statuses of kept
// elements are kept. It returns the new version. A link to an element not in the case, or an
// ABOUT target that the twin does not have, refuses the whole case.
func (db *DB) SaveAssuranceCase(ctx context.Context, c AssuranceCase) (int, error) {
	ids := make(map[string]bool, len(c.Elements))
	for _, e := range c.Elements {
		ids[e.ID] = true
	}
	var elems, links, abouts []map[string]any
	for _, e := range c.Elements {
		row := map[string]any{"id": e.ID, "props": map[string]any{
			"type": e.Type, "module": e.Module, "text": e.Text, "undeveloped": e.Undeveloped, "mode": e.Mode, "k": e.K,
			"evidence": e.Evidence, "layers": e.Layers,
		}}
		if d := e.Defeater; d != nil {
			props := row["props"].(map[string]any)
			props["defeaterKind"], props["defeaterState"], props["severity"], props["kev"] = d.Kind, d.State, d.Severity, d.KEV
			props["probability"], props["approver"], props["rationale"] = d.Probability, d.Approver, d.Rationale
			if !d.Expires.IsZero() {
				props["acceptanceExpires"] = d.Expires.UTC()
			}
		}
		elems = append(elems, row)
		for rel, targets := range map[string][]string{"SUPPORTED_BY": e.SupportedBy, "IN_CONTEXT_OF": e.InContextOf,
			"CHALLENGES": e.Challenges, "REFUTES": e.Refutes} {
			for i, t := range targets {
				if !ids[t] {
					return 0, fmt.Errorf("%w: element %s: %s %s is not an element of case %s", ErrBadCase, e.ID, rel, t, c.ID)
				}
				links = append(links, map[string]any{"from": e.ID, "to": t, "rel": rel, "i": i})
			}
		}
		for _, a := range e.About {
			k, ok := KindOf(a.Label)
			if !ok {
				return 0, fmt.Errorf("%w: element %s is about a %s, which is not a twin element", ErrBadCase, e.ID, a.Label)
			}
			abouts = append(abouts, map[string]any{"from": e.ID, "label": a.Label, "keyProp": k.Key, "key": a.Key})
		}
	}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `OPTIONAL MATCH (t:Twin {name: $twin}) RETURN t IS NOT NULL`, map[string]any{"twin": c.Twin})
		if err != nil {
			return nil, err
		}
		if rec.Values[0] != true {
			return nil, fmt.Errorf("%w: %s", ErrTwinNotFound, c.Twin)
		}
		rec, err = single(ctx, tx, `MERGE (c:AssuranceCase {twin: $twin, id: $id})
SET c.name = $name, c.version = coalesce(c.version, 0) + 1, c.sourceFormat = $format, c.sourceHash = $hash,
    c.source = $source, c.importedAt = $at, c.importedBy = $by
RETURN c.version`, map[string]any{"twin": c.Twin, "id": c.ID, "name": c.Name, "format": c.SourceFormat, "hash": c.SourceHash,
			"source": c.Source, "at": c.ImportedAt.UTC(), "by": c.ImportedBy})
		if err != nil {
			return nil, err
		}
		// The increment reads c.version under the write lock Cypher takes for it, so of two
		// concurrent saves one sees the other's version.
		version := int(rec.Values[0].(int64))
		if c.Replaces != 0 && version != c.Replaces+1 {
			return nil, fmt.Errorf("%w: the edit started from version %d, and version %d is stored", ErrCaseChanged, c.Replaces, version-1)
		}
		p := map[string]any{"twin": c.Twin, "case": c.ID, "ids": slices.Collect(maps.Keys(ids))}
		// Elements gone from the case go, with every link.
		if err := run(ctx, tx, `MATCH (e:GsnElement {twin: $twin, case: $case}) WHERE NOT e.id IN $ids DETACH DELETE e`, p); err != nil {
			return nil, err
		}
		// Links are rewritten whole: the case's structure is what this version says.
		if err := run(ctx, tx, `MATCH (e:GsnElement {twin: $twin, case: $case})-[r:SUPPORTED_BY|IN_CONTEXT_OF|CHALLENGES|REFUTES|ABOUT]->() DELETE r`, p); err != nil {
			return nil, err
		}
		for chunk := range slices.Chunk(elems, chunkSize) {
			if err := run(ctx, tx, `MATCH (c:AssuranceCase {twin: $twin, id: $case})
UNWIND $rows AS row
MERGE (e:GsnElement {twin: $twin, case: $case, id: row.id})
SET e += row.props
MERGE (c)-[:HAS]->(e)`, map[string]any{"twin": c.Twin, "case": c.ID, "rows": chunk}); err != nil {
				return nil, err
			}
		}
		for _, rel := range []string{"SUPPORTED_BY", "IN_CONTEXT_OF", "CHALLENGES", "REFUTES"} {
			var rows []map[string]any
			for _, l := range links {
				if l["rel"] == rel {
					rows = append(rows, l)
				}
			}
			for chunk := range slices.Chunk(rows, chunkSize) {
				if err := run(ctx, tx, fmt.Sprintf(`UNWIND $rows AS row
MATCH (a:GsnElement {twin: $twin, case: $case, id: row.from}), (b:GsnElement {twin: $twin, case: $case, id: row.to})
MERGE (a)-[r:%s]->(b) SET r.i = row.i`, rel), map[string]any{"twin": c.Twin, "case": c.ID, "rows": chunk}); err != nil {
					return nil, err
				}
			}
		}
		byLabel := map[string][]map[string]any{}
		for _, a := range abouts {
			byLabel[a["label"].(string)] = append(byLabel[a["label"].(string)], a)
		}
		for label, rows := range byLabel {
			k, _ := KindOf(label)
			rec, err := single(ctx, tx, fmt.Sprintf(`UNWIND $rows AS row
MATCH (a:GsnElement {twin: $twin, case: $case, id: row.from})
OPTIONAL MATCH (t:%s {twin: $twin, %s: row.key})
FOREACH (_ IN CASE WHEN t IS NULL THEN [] ELSE [1] END | MERGE (a)-[:ABOUT]->(t))
RETURN [row IN collect(CASE WHEN t IS NULL THEN row.from + ' → ' + row.key END) WHERE row IS NOT NULL]`, label, k.Key),
				map[string]any{"twin": c.Twin, "case": c.ID, "rows": rows})
			if err != nil {
				return nil, err
			}
			if missing := stringList(rec.Values[0]); len(missing) > 0 {
				return nil, fmt.Errorf("%w: the twin has no %s %v (elements about them: fix the case or the twin)", ErrBadCase, label, missing)
			}
		}
		return version, nil
	})
	if err != nil {
		return 0, fmt.Errorf("save assurance case %s of twin %s: %w", c.ID, c.Twin, err)
	}
	return out.(int), nil
}

// AssuranceCaseByID reads a case back with its elements and links, in id order.
func (db *DB) AssuranceCaseByID(ctx context.Context, twin, id string) (AssuranceCase, error) {
	cases, err := db.readCases(ctx, twin, id)
	if err != nil {
		return AssuranceCase{}, err
	}
	if len(cases) == 0 {
		return AssuranceCase{}, fmt.Errorf("assurance case %s of twin %s: %w", id, twin, ErrNotFound)
	}
	return cases[0], nil
}

// AssuranceCases reads a twin's cases whole, by id, in one statement.
func (db *DB) AssuranceCases(ctx context.Context, twin string) ([]AssuranceCase, error) {
	return db.readCases(ctx, twin, "")
}

// readCases reads the case with this id, or every case of the twin for "".
func (db *DB) readCases(ctx context.Context, twin, id string) ([]AssuranceCase, error) {
	recs, err := db.collect(ctx, `MATCH (c:AssuranceCase {twin: $twin}) WHERE $id = '' OR c.id = $id
OPTIONAL MATCH (c)-[:HAS]->(e:GsnElement)
WITH c, e ORDER BY c.id, e.id
// Group by the case node only: grouping by its properties would copy the source (megabytes for
// a large case) into every element row.
WITH c, collect(CASE WHEN e IS NULL THEN null ELSE {
    id: e.id, type: e.type, module: e.module, text: e.text, undeveloped: e.undeveloped, mode: e.mode, k: e.k,
    evidence: e.evidence, layers: e.layers, defeaterKind: e.defeaterKind, defeaterState: e.defeaterState,
    severity: e.severity, kev: e.kev, probability: e.probability, approver: e.approver, rationale: e.rationale,
    acceptanceExpires: e.acceptanceExpires,
    supportedBy: [(e)-[r:SUPPORTED_BY]->(x) | [r.i, x.id]], inContextOf: [(e)-[r:IN_CONTEXT_OF]->(x) | [r.i, x.id]],
    challenges: [(e)-[r:CHALLENGES]->(x) | [r.i, x.id]], refutes: [(e)-[r:REFUTES]->(x) | [r.i, x.id]],
    about: [(e)-[:ABOUT]->(t) | [labels(t)[0], properties(t)]]} END) AS elements
RETURN c.id, c.name, c.version, c.sourceFormat, c.sourceHash, c.source, c.importedAt, c.importedBy, elements`,
		map[string]any{"twin": twin, "id": id})
	if err != nil {
		return nil, err
	}
	out := make([]AssuranceCase, 0, len(recs))
	for _, r := range recs {
		out = append(out, decodeCase(twin, r.Values))
	}
	return out, nil
}

func decodeCase(twin string, v []any) AssuranceCase {
	c := AssuranceCase{Twin: twin, ID: asString(v[0]), Name: asString(v[1]), Version: int(asInt(v[2])), SourceFormat: asString(v[3]),
		SourceHash: asString(v[4]), Source: asString(v[5]), ImportedBy: asString(v[7])}
	c.ImportedAt, _ = v[6].(time.Time)
	for _, raw := range asList(v[8]) {
		m, _ := raw.(map[string]any)
		e := CaseElement{ID: asString(m["id"]), Type: asString(m["type"]), Module: asString(m["module"]), Text: asString(m["text"]),
			Undeveloped: m["undeveloped"] == true, Mode: asString(m["mode"]), K: int(asInt(m["k"])), Evidence: asString(m["evidence"]),
			Layers: asString(m["layers"]), SupportedBy: ordered(m["supportedBy"]), InContextOf: ordered(m["inContextOf"]),
			Challenges: ordered(m["challenges"]), Refutes: ordered(m["refutes"])}
		if k := asString(m["defeaterKind"]); k != "" {
			d := &CaseDefeater{Kind: k, State: asString(m["defeaterState"]), Severity: asString(m["severity"]), KEV: m["kev"] == true,
				Approver: asString(m["approver"]), Rationale: asString(m["rationale"])}
			if p := asFloat(m["probability"]); p != nil {
				d.Probability = *p
			}
			if t, ok := m["acceptanceExpires"].(time.Time); ok {
				d.Expires = t
			}
			e.Defeater = d
		}
		for _, a := range asList(m["about"]) {
			pair := asList(a)
			if len(pair) != 2 {
				continue
			}
			label := asString(pair[0])
			props, _ := pair[1].(map[string]any)
			if k, ok := KindOf(label); ok {
				e.About = append(e.About, NodeRef{Label: label, Key: asString(props[k.Key])})
			}
		}
		slices.SortFunc(e.About, compareRefs)
		c.Elements = append(c.Elements, e)
	}
	return c
}

// ordered reads [[i, id], …] pairs back into ids in their written order.
func ordered(v any) []string {
	pairs := asList(v)
	slices.SortFunc(pairs, func(a, b any) int {
		x, y := asList(a), asList(b)
		if len(x) < 2 || len(y) < 2 {
			return 0
		}
		return int(asInt(x[0]) - asInt(y[0]))
	})
	var out []string
	for _, p := range pairs {
		if pair := asList(p); len(pair) == 2 {
			out = append(out, asString(pair[1]))
		}
	}
	return out
}

func compareRefs(a, b NodeRef) int {
	return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.Key, b.Key))
}

func asList(v any) []any { l, _ := v.([]any); return l }

func asInt(v any) int64 { i, _ := v.(int64); return i }

// SaveCaseStatuses stores computed statuses and appends to the history each status that
// differs from the stored one, in one transaction, so that the current status and its history
// never disagree. causes holds each element's cause (JSON) for its history entry. It returns
// what was stored before, for the elements found (an element deleted meanwhile is skipped).
//
// Each element is locked before its stored status is read, so of several servers evaluating
// the same case (replicas), each transition is recorded, and reported by the return value, by
// exactly one of them: the others find it already stored.
func (db *DB) SaveCaseStatuses(ctx context.Context, twin, caseID string, statuses []CaseStatus, causes map[string]string) (map[string]CaseStatus, error) {
	// In element order, so that two servers saving the same case lock its elements in the same
	// order and never deadlock.
	statuses = slices.SortedFunc(slices.Values(statuses), func(a, b CaseStatus) int { return cmp.Compare(a.Element, b.Element) })
	rows := make([]map[string]any, len(statuses))
	byID := make(map[string]CaseStatus, len(statuses))
	for i, s := range statuses {
		row := map[string]any{"id": s.Element, "status": s.Status, "reasons": s.Reasons, "confidence": s.Confidence, "at": s.At.UTC()}
		if !s.NextReevalAt.IsZero() {
			row["next"] = s.NextReevalAt.UTC()
		}
		rows[i] = row
		byID[s.Element] = s
	}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		before := make(map[string]CaseStatus, len(statuses))
		var hist []map[string]any
		for chunk := range slices.Chunk(rows, chunkSize) {
			// The lock, then the read: the pattern of Neo4j's "Concurrent data access" for
			// reads a write depends on.
			result, err := tx.Run(ctx, `UNWIND $rows AS row
MATCH (e:GsnElement {twin: $twin, case: $case, id: row.id})
SET e._lock = true
WITH e, row, e.status AS status, e.reasons AS reasons, e.confidence AS confidence, e.statusAt AS at
SET e.status = row.status, e.reasons = row.reasons, e.confidence = row.confidence, e.statusAt = row.at, e.nextReevalAt = row.next
REMOVE e._lock
RETURN row.id, status, reasons, confidence, at`, map[string]any{"twin": twin, "case": caseID, "rows": chunk})
			if err != nil {
				return nil, err
			}
			for result.Next(ctx) {
				v := result.Record().Values
				id := asString(v[0])
				b := CaseStatus{Element: id, Status: asString(v[1]), Reasons: asString(v[2])}
				if f := asFloat(v[3]); f != nil {
					b.Confidence = *f
				}
				b.At, _ = v[4].(time.Time)
				before[id] = b
				if now := byID[id]; now.Status != b.Status {
					hist = append(hist, map[string]any{"element": id, "from": b.Status, "to": now.Status, "reasons": now.Reasons,
						"cause": causes[id], "at": now.At.UTC()})
				}
			}
			if err := result.Err(); err != nil {
				return nil, err
			}
		}
		for chunk := range slices.Chunk(hist, chunkSize) {
			// The case may have been deleted meanwhile: no history without it.
			if err := run(ctx, tx, `MATCH (:AssuranceCase {twin: $twin, id: $case})
UNWIND $rows AS row
CREATE (:StatusChange {twin: $twin, case: $case, element: row.element, from: row.from, to: row.to, reasons: row.reasons,
  cause: row.cause, at: row.at})`, map[string]any{"twin": twin, "case": caseID, "rows": chunk}); err != nil {
				return nil, err
			}
		}
		return before, nil
	})
	if err != nil {
		return nil, fmt.Errorf("save statuses of assurance case %s: %w", caseID, err)
	}
	return out.(map[string]CaseStatus), nil
}

// CaseStatuses reads the stored status of every element of a case.
func (db *DB) CaseStatuses(ctx context.Context, twin, caseID string) ([]CaseStatus, error) {
	recs, err := db.collect(ctx, `MATCH (e:GsnElement {twin: $twin, case: $case}) WHERE e.status IS NOT NULL
RETURN e.id, e.status, e.reasons, e.confidence, e.statusAt, e.nextReevalAt ORDER BY e.id`, map[string]any{"twin": twin, "case": caseID})
	if err != nil {
		return nil, err
	}
	out := make([]CaseStatus, 0, len(recs))
	for _, r := range recs {
		s := CaseStatus{Element: asString(r.Values[0]), Status: asString(r.Values[1]), Reasons: asString(r.Values[2])}
		if c := asFloat(r.Values[3]); c != nil {
			s.Confidence = *c
		}
		s.At, _ = r.Values[4].(time.Time)
		s.NextReevalAt, _ = r.Values[5].(time.Time)
		out = append(out, s)
	}
	return out, nil
}

// StatusHistory returns an element's status changes, newest first (at most limit).
func (db *DB) StatusHistory(ctx context.Context, twin, caseID, element string, limit int) ([]StatusChange, error) {
	recs, err := db.collect(ctx, `MATCH (s:StatusChange {twin: $twin, case: $case, element: $element})
RETURN s.from, s.to, s.reasons, s.cause, s.at ORDER BY s.at DESC LIMIT $limit`,
		map[string]any{"twin": twin, "case": caseID, "element": element, "limit": limit})
	if err != nil {
		return nil, err
	}
	out := make([]StatusChange, 0, len(recs))
	for _, r := range recs {
		ch := StatusChange{Twin: twin, Case: caseID, Element: element, From: asString(r.Values[0]), To: asString(r.Values[1]),
			Reasons: asString(r.Values[2]), Cause: asString(r.Values[3])}
		ch.At, _ = r.Values[4].(time.Time)
		out = append(out, ch)
	}
	return out, nil
}

// DeleteAssuranceCase removes a case, its elements and its history.
func (db *DB) DeleteAssuranceCase(ctx context.Context, twin, caseID string) (bool, error) {
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `OPTIONAL MATCH (c:AssuranceCase {twin: $twin, id: $case})
OPTIONAL MATCH (c)-[:HAS]->(e:GsnElement)
WITH c, collect(e) AS es
FOREACH (e IN es | DETACH DELETE e)
WITH c
OPTIONAL MATCH (s:StatusChange {twin: $twin, case: $case})
WITH c, collect(s) AS ss
FOREACH (s IN ss | DELETE s)
WITH c, c IS NOT NULL AS found
DETACH DELETE c
RETURN found`, map[string]any{"twin": twin, "case": caseID})
		if err != nil {
			return nil, err
		}
		return rec.Values[0] == true, nil
	})
	if err != nil {
		return false, fmt.Errorf("delete assurance case %s: %w", caseID, err)
	}
	return out.(bool), nil
}

// CaseRef names one assurance case.
type CaseRef struct{ Twin, ID string }

// AssuranceCaseRefs lists every stored case of every twin, by twin then id: what a server
// evaluates live when it starts.
func (db *DB) AssuranceCaseRefs(ctx context.Context) ([]CaseRef, error) {
	recs, err := db.collect(ctx, `MATCH (c:AssuranceCase) RETURN c.twin, c.id ORDER BY c.twin, c.id`, nil)
	if err != nil {
		return nil, fmt.Errorf("list assurance cases: %w", err)
	}
	out := make([]CaseRef, 0, len(recs))
	for _, r := range recs {
		out = append(out, CaseRef{Twin: asString(r.Values[0]), ID: asString(r.Values[1])})
	}
	return out, nil
}

// SetDefeaterTriage stores a defeater's triage (state, severity, probability, and for an
// accepted residual risk its approver, rationale and expiry) and appends a StatusChange
// recording the decision (from the old state to the new, with by and note as its cause), in
// one transaction. It returns ErrBadCase when the case has no defeater with this id.
func (db *DB) SetDefeaterTriage(ctx context.Context, twin, caseID, defeater string, d CaseDefeater, by, note string, at time.Time) error {
	props := map[string]any{"defeaterState": d.State, "severity": d.Severity, "kev": d.KEV, "probability": d.Probability,
		"approver": nil, "rationale": nil, "acceptanceExpires": nil}
	if d.Approver != "" {
		props["approver"] = d.Approver
	}
	if d.Rationale != "" {
		props["rationale"] = d.Rationale
	}
	if !d.Expires.IsZero() {
		props["acceptanceExpires"] = d.Expires.UTC()
	}
	cause, err := json.Marshal(map[string]string{"triage": by, "note": note})
	if err != nil {
		return err
	}
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `OPTIONAL MATCH (e:GsnElement {twin: $twin, case: $case, id: $id, type: 'Defeater'})
WITH e, e.defeaterState AS old
FOREACH (x IN CASE WHEN e IS NULL THEN [] ELSE [e] END |
  SET x += $props
  CREATE (:StatusChange {twin: $twin, case: $case, element: $id, from: coalesce(old, ''), to: $props.defeaterState,
    reasons: '[]', cause: $cause, at: $at}))
RETURN e IS NOT NULL`, map[string]any{"twin": twin, "case": caseID, "id": defeater, "props": props, "cause": string(cause), "at": at.UTC()})
		if err != nil {
			return nil, err
		}
		return rec.Values[0], nil
	})
	if err != nil {
		return fmt.Errorf("triage defeater %s of case %s: %w", defeater, caseID, err)
	}
	if out != true {
		return fmt.Errorf("%w: case %s has no defeater %s", ErrBadCase, caseID, defeater)
	}
	return nil
}

// ClaimAbout is an element of a case that is about a twin node, with its stored status.
type ClaimAbout struct {
	Case    string
	Element CaseElement
	Status  CaseStatus
}

// ClaimsAbout returns the evaluated elements of the twin's cases that are ABOUT the node, about
// an artifact or service that contains or runs it (for a component), or about an artifact the
// node runs (for a service), by case then element.
func (db *DB) ClaimsAbout(ctx context.Context, twin string, n NodeRef) ([]ClaimAbout, error) {
	m, err := db.ClaimsAboutEach(ctx, twin, n.Label, []string{n.Key})
	return m[n.Key], err
}

// ClaimsAboutEach is ClaimsAbout for several nodes of one label (by key) in one statement:
// each node's claims, keyed by its key (none for a node that has no claims or is absent).
// It walks from each node to what it may be claimed through (the artifacts and services
// above it, the artifacts it runs), not over every claim of the twin.
func (db *DB) ClaimsAboutEach(ctx context.Context, twin, label string, keys []string) (map[string][]ClaimAbout, error) {
	k, ok := KindOf(label)
	if !ok {
		return nil, fmt.Errorf("unknown label %q", label)
	}
	recs, err := db.collect(ctx, fmt.Sprintf(`UNWIND $keys AS key
MATCH (n:%s {twin: $twin, %s: key})
CALL (n) {
  MATCH (e:GsnElement)-[:ABOUT]->(n) RETURN e
  UNION
  MATCH (e:GsnElement)-[:ABOUT]->()-[:RUNS|CONTAINS*1..2]->(n) RETURN e
  UNION
  MATCH (n)-[:RUNS]->()<-[:ABOUT]-(e:GsnElement) RETURN e
}
WITH key, e WHERE e.twin = $twin AND e.status IS NOT NULL
WITH DISTINCT key, e ORDER BY key, e.case, e.id
RETURN key, e.case, e.id, e.type, e.module, e.text, e.status, e.reasons, e.confidence, e.statusAt`, label, k.Key),
		map[string]any{"twin": twin, "keys": keys})
	if err != nil {
		return nil, fmt.Errorf("claims about %d %s: %w", len(keys), label, err)
	}
	out := make(map[string][]ClaimAbout, len(keys))
	for _, r := range recs {
		v := r.Values
		c := ClaimAbout{Case: asString(v[1]), Element: CaseElement{ID: asString(v[2]), Type: asString(v[3]), Module: asString(v[4]), Text: asString(v[5])},
			Status: CaseStatus{Element: asString(v[2]), Status: asString(v[6]), Reasons: asString(v[7])}}
		if f := asFloat(v[8]); f != nil {
			c.Status.Confidence = *f
		}
		c.Status.At, _ = v[9].(time.Time)
		key := asString(v[0])
		out[key] = append(out[key], c)
	}
	return out, nil
}

// AffectedComponentKeys returns the purls of the twin's components a vulnerability AFFECTS,
// whatever their VEX status, sorted.
func (db *DB) AffectedComponentKeys(ctx context.Context, twin, vulnerability string) ([]string, error) {
	recs, err := db.collect(ctx, `MATCH (:Vulnerability {twin: $twin, vulnerabilityId: $id})-[:AFFECTS]->(c:Component)
RETURN DISTINCT c.purl ORDER BY c.purl`, map[string]any{"twin": twin, "id": vulnerability})
	if err != nil {
		return nil, fmt.Errorf("components affected by %s: %w", vulnerability, err)
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, asString(r.Values[0]))
	}
	return out, nil
}

// ArtifactsContaining returns the digests of the twin's artifacts that CONTAIN one of these
// components (by purl), sorted.
func (db *DB) ArtifactsContaining(ctx context.Context, twin string, purls []string) ([]string, error) {
	recs, err := db.collect(ctx, `UNWIND $purls AS purl
MATCH (:Component {twin: $twin, purl: purl})<-[:CONTAINS]-(a:Artifact)
RETURN DISTINCT a.digest ORDER BY a.digest`, map[string]any{"twin": twin, "purls": purls})
	if err != nil {
		return nil, fmt.Errorf("artifacts containing %d components: %w", len(purls), err)
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, asString(r.Values[0]))
	}
	return out, nil
}
