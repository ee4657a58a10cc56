package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
)

// Attestations: manual statements about a twin element, valid until they expire, which the
// attestation evidence kind reads. Like a ScanRun, an Attestation is not a kind of the twin
// model: it is a node
//
//	(:Attestation {twin, id, subject, subjectDigest, topic, by, statement, verdict, at, expires})-[:ATTESTS]->(subject)
//
// keyed by its id within the twin, whose global id is ID(LabelAttestation, twin, id) (not
// reversed by ParseID). Its subject is the global id of an element of the same twin that an
// evidence spec can be about (AttestationSubjectLabels). An attestation is re-made, never
// edited: saving one with an id already taken replaces the earlier one whole. It outlives its
// subject (deleting the subject removes only ATTESTS): reads go by the subject property.

// LabelAttestation labels attestations.
const LabelAttestation = evidence.LabelAttestation

// ErrBadAttestation marks an attestation the twin refuses as it is: invalid
// (evidence.Attestation.Validate, whose error it wraps too), or about something that is not an
// element of the twin.
var ErrBadAttestation = errors.New("bad attestation")

// AttestationSubjectLabels are the labels of what an attestation may be about: the subjects of
// evidence specs.
var AttestationSubjectLabels = []string{LabelTwin, LabelService, LabelArtifact, LabelComponent, LabelHost, LabelZone, LabelDataStore}

// SaveAttestation stores a, checked by a.Validate first, replacing any attestation of the twin
// with the same id, and returns it with its GlobalID and its times in UTC. a.Subject must be the
// global id of an element of this twin (AttestationSubjectLabels) that exists; otherwise, and
// when a is invalid, the error wraps ErrBadAttestation.
func (db *DB) SaveAttestation(ctx context.Context, twin string, a evidence.Attestation) (evidence.Attestation, error) {
	if err := a.Validate(); err != nil {
		return evidence.Attestation{}, fmt.Errorf("%w: %w", ErrBadAttestation, err)
	}
	label, subjectTwin, key, err := ParseID(a.Subject)
	switch {
	case err != nil:
		return evidence.Attestation{}, fmt.Errorf("%w: subject: %w", ErrBadAttestation, err)
	case subjectTwin != twin:
		return evidence.Attestation{}, fmt.Errorf("%w: subject %s belongs to another twin", ErrBadAttestation, a.Subject)
	case !slices.Contains(AttestationSubjectLabels, label):
		return evidence.Attestation{}, fmt.Errorf("%w: an attestation cannot be about a %s", ErrBadAttestation, label)
	}
	a.At, a.Expires = a.At.UTC(), a.Expires.UTC()
	a.GlobalID = ID(LabelAttestation, twin, a.ID)
	k, _ := KindOf(label) // label is from AttestationSubjectLabels, formatted into Cypher from that set only
	params := map[string]any{"twin": twin, "id": a.ID, "key": key, "props": map[string]any{
		"twin": twin, "id": a.ID, "subject": a.Subject, "subjectDigest": a.SubjectDigest, "topic": a.Topic, "by": a.By,
		"statement": a.Statement, "verdict": string(a.Verdict), "at": a.At, "expires": a.Expires,
	}}
	_, err = db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, fmt.Sprintf(`OPTIONAL MATCH (n:%s {twin: $twin, %s: $key}) RETURN n IS NOT NULL`, label, k.Key), params)
		if err != nil {
			return nil, err
		}
		if rec.Values[0] != true {
			return nil, fmt.Errorf("%w: twin %s has no %s %s", ErrBadAttestation, twin, label, key)
		}
		return nil, run(ctx, tx, fmt.Sprintf(`MATCH (n:%s {twin: $twin, %s: $key})
MERGE (x:Attestation {twin: $twin, id: $id})
SET x = $props
WITH n, x
OPTIONAL MATCH (x)-[r:ATTESTS]->()
DELETE r
WITH DISTINCT n, x
MERGE (x)-[:ATTESTS]->(n)`, label, k.Key), params)
	})
	if err != nil {
		return evidence.Attestation{}, fmt.Errorf("save attestation %s in twin %s: %w", a.ID, twin, err)
	}
	return a, nil
}

// EvidenceAttestations returns the attestation with q.ID, or else every attestation with
// q.Topic, newest (at) first, ties by id descending (evidence.Store's Attestations). An empty
// query returns none.
func (db *DB) EvidenceAttestations(ctx context.Context, twin string, q evidence.AttestationQuery) ([]evidence.Attestation, error) {
	var match string
	switch {
	case q.ID != "":
		match = `MATCH (x:Attestation {twin: $twin, id: $id})`
	case q.Topic != "":
		match = `MATCH (x:Attestation {twin: $twin, topic: $topic})`
	default:
		return nil, nil
	}
	recs, err := db.collect(ctx, match+`
RETURN x.id, coalesce(x.subject, ''), coalesce(x.subjectDigest, ''), coalesce(x.topic, ''), coalesce(x.by, ''),
  coalesce(x.statement, ''), coalesce(x.verdict, ''), x.at, x.expires
ORDER BY x.at DESC, x.id DESC`, map[string]any{"twin": twin, "id": q.ID, "topic": q.Topic})
	if err != nil {
		return nil, fmt.Errorf("evidence attestations: %w", err)
	}
	out := make([]evidence.Attestation, 0, len(recs))
	for _, r := range recs {
		v := r.Values
		id, _ := v[0].(string)
		a := evidence.Attestation{ID: id, GlobalID: ID(LabelAttestation, twin, id)}
		a.Subject, _ = v[1].(string)
		a.SubjectDigest, _ = v[2].(string)
		a.Topic, _ = v[3].(string)
		a.By, _ = v[4].(string)
		a.Statement, _ = v[5].(string)
		verdict, _ := v[6].(string)
		a.Verdict = evidence.Verdict(verdict)
		if t, ok := v[7].(time.Time); ok {
			a.At = t.UTC()
		}
		if t, ok := v[8].(time.Time); ok {
			a.Expires = t.UTC()
		}
		out = append(out, a)
	}
	return out, nil
}

// DeleteAttestation deletes the attestation with this id and reports whether there was one.
func (db *DB) DeleteAttestation(ctx context.Context, twin, id string) (bool, error) {
	out, err := db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `OPTIONAL MATCH (x:Attestation {twin: $twin, id: $id})
DETACH DELETE x
RETURN count(x)`, map[string]any{"twin": twin, "id": id})
		if err != nil {
			return nil, err
		}
		return rec.Values[0].(int64) > 0, nil
	})
	if err != nil {
		return false, fmt.Errorf("delete attestation %s in twin %s: %w", id, twin, err)
	}
	return out.(bool), nil
}
