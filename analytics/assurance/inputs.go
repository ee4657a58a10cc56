package assurance

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// LeafResult is the evidence verdict for a Solution, computed by the caller's evidence-spec
// evaluator from the leaf rules of the design (missing, subject changed, stale, knowledge
// stale, verdict, heartbeat).
type LeafResult struct {
	// Status may be left zero: it is then derived from Reason. When given it must agree
	// with Reason (EVIDENCE_DEGRADED allows SUPPORTED or UNDERMINED).
	Status Status
	// Reason is zero for a plain PASS; otherwise one of EVIDENCE_MISSING, SUBJECT_CHANGED,
	// EVIDENCE_STALE, KNOWLEDGE_STALE, EVIDENCE_FAIL, EVIDENCE_ERROR, EVIDENCE_DEGRADED and
	// MONITOR_SILENT.
	Reason Code
	// Culprits are extra ids to blame besides the Solution, such as evidence or advisory ids.
	Culprits []string
	// Confidence in [0, 1]: w_kind × freshness, see LeafConfidence. Taken as given.
	Confidence float64
	// Expires, if not zero, is the first instant at which the result no longer holds (for
	// evidence, min(e.expires, e.collected + W); for a monitor, the heartbeat deadline).
	// From then on the leaf is UNKNOWN with OnExpiry.
	Expires time.Time
	// OnExpiry is EVIDENCE_STALE (the default, when zero) or MONITOR_SILENT.
	OnExpiry Code
}

// LeafConfidence is the design's leaf confidence: weight (w_kind) times a freshness factor
// falling linearly from 1 at collected to 0.5 at collected+window, clamped to that range.
// A window of zero or less gives the full weight.
func LeafConfidence(weight float64, collected time.Time, window time.Duration, now time.Time) float64 {
	if window <= 0 {
		return weight
	}
	age := float64(now.Sub(collected)) / float64(window)
	return weight * (1 - 0.5*min(max(age, 0), 1))
}

// Truth is the value of a Context or Assumption predicate.
type Truth uint8

// The truth values. The zero Truth is TruthUnknown.
const (
	TruthUnknown Truth = iota
	TruthTrue
	TruthFalse
)

// PredicateValue is the caller's evaluation of a Context or Assumption predicate over the
// twin.
type PredicateValue struct {
	Value Truth
	// Expires, if not zero, is the first instant at which the value is no longer known; the
	// predicate is TruthUnknown from then on.
	Expires time.Time
}

// Review records that the SUPPORTED_BY link Parent → Child was reviewed when the child's
// hash was Hash.
type Review struct {
	Parent, Child, Hash string
}

// Changes are new inputs for Evaluator.Set and Evaluator.Update. Each entry replaces the
// element's previous input.
type Changes struct {
	// Leaves maps Solution ids to their new evidence verdict.
	Leaves map[string]LeafResult
	// Predicates maps Context and Assumption ids (with Predicate set) to their value.
	Predicates map[string]PredicateValue
	// Defeaters maps defeater ids to their new assessment (triage state, severity,
	// probability, acceptance).
	Defeaters map[string]Assessment
	// Hashes maps element ids to their current content hash.
	Hashes map[string]string
	// Reviews marks SUPPORTED_BY links as reviewed.
	Reviews []Review
	// Note describes the event behind the changes (such as a CVE id); it is copied into
	// the Cause of the status changes they produce.
	Note string
}

// leafInput is a Solution's current leaf result, prepared for evaluation.
type leafInput struct {
	set     bool
	status  Status
	conf    float64
	expires time.Time
	active  []Reason // while not expired; nil for a plain PASS
	expired []Reason // from Expires on
}

// predInput is a predicate's current value.
type predInput struct {
	value   Truth
	expires time.Time
}

// leafStatus returns the status a leaf reason implies, and whether the reason is one a
// leaf result may carry.
func leafStatus(c Code) (Status, bool) {
	switch c {
	case 0, EvidenceDegraded:
		return Supported, true
	case EvidenceFail:
		return Undermined, true
	case EvidenceMissing, SubjectChanged, EvidenceStale, KnowledgeStale, EvidenceError, MonitorSilent:
		return Unknown, true
	}
	return 0, false
}

// validate checks every input of ch against the model.
func (e *Evaluator) validate(ch Changes) error {
	var el errs
	m := e.m
	lookup := func(id string) (*node, bool) {
		x, ok := m.index[id]
		if !ok {
			el.add(id, RuleInput, "no such element")
			return nil, false
		}
		return &m.nodes[x], true
	}
	for _, id := range sortedKeys(ch.Leaves) {
		lr := ch.Leaves[id]
		n, ok := lookup(id)
		if !ok {
			continue
		}
		if n.kind != KindSolution || n.away >= 0 {
			el.add(id, RuleInput, fmt.Sprintf("leaf result for %s: only local Solutions take leaf results", n.kind))
			continue
		}
		st, ok := leafStatus(lr.Reason)
		switch {
		case !ok:
			el.add(id, RuleInput, fmt.Sprintf("reason %s is not a leaf reason", lr.Reason))
		case lr.Status != 0 && lr.Status != st && !(lr.Reason == EvidenceDegraded && lr.Status == Undermined):
			el.add(id, RuleInput, fmt.Sprintf("status %s contradicts reason %s", lr.Status, reasonName(lr.Reason)))
		}
		if math.IsNaN(lr.Confidence) || lr.Confidence < 0 || lr.Confidence > 1 {
			el.add(id, RuleInput, fmt.Sprintf("confidence %v outside [0, 1]", lr.Confidence))
		}
		if lr.OnExpiry != 0 && lr.OnExpiry != EvidenceStale && lr.OnExpiry != MonitorSilent {
			el.add(id, RuleInput, fmt.Sprintf("OnExpiry %s: only EVIDENCE_STALE or MONITOR_SILENT", lr.OnExpiry))
		}
		if slices.Contains(lr.Culprits, "") {
			el.add(id, RuleInput, "empty culprit id")
		}
	}
	for _, id := range sortedKeys(ch.Predicates) {
		n, ok := lookup(id)
		if !ok {
			continue
		}
		if !n.predicate || n.away >= 0 {
			el.add(id, RuleInput, "predicate value for an element without a predicate")
		}
		if v := ch.Predicates[id].Value; v > TruthFalse {
			el.add(id, RuleInput, fmt.Sprintf("unknown truth value %d", v))
		}
	}
	for _, id := range sortedKeys(ch.Defeaters) {
		n, ok := lookup(id)
		if !ok {
			continue
		}
		if n.kind != KindDefeater {
			el.add(id, RuleInput, fmt.Sprintf("assessment for %s: only defeaters are assessed", n.kind))
			continue
		}
		checkAssessment(&el, id, RuleInput, ch.Defeaters[id])
	}
	for _, id := range sortedKeys(ch.Hashes) {
		if n, ok := lookup(id); ok && n.kind == KindDefeater {
			el.add(id, RuleInput, "hash for a defeater: only argument elements are hashed")
		}
	}
	for _, r := range ch.Reviews {
		p, ok1 := lookup(r.Parent)
		_, ok2 := lookup(r.Child)
		if ok1 && ok2 && !slices.Contains(p.children, m.index[r.Child]) {
			el.add(r.Parent, RuleInput, fmt.Sprintf("review of a link to %s that does not exist", r.Child), r.Child)
		}
	}
	return el.err()
}

func reasonName(c Code) string {
	if c == 0 {
		return "PASS"
	}
	return c.String()
}

// apply records the inputs of a validated ch and marks what they affect dirty.
func (e *Evaluator) apply(ch Changes) {
	m := e.m
	for _, id := range sortedKeys(ch.Leaves) {
		x := m.index[id]
		lr := ch.Leaves[id]
		st, _ := leafStatus(lr.Reason)
		if lr.Reason == EvidenceDegraded && (lr.Status == Undermined || e.opts.Strict) {
			st = Undermined
		}
		culprits := append([]string{id}, lr.Culprits...)
		slices.Sort(culprits)
		culprits = slices.Compact(culprits)
		in := leafInput{set: true, status: st, conf: lr.Confidence, expires: lr.Expires}
		if lr.Reason != 0 {
			in.active = []Reason{newReason(lr.Reason, culprits)}
		}
		onExp := lr.OnExpiry
		if onExp == 0 {
			onExp = EvidenceStale
		}
		in.expired = []Reason{newReason(onExp, culprits)}
		e.leaves[x] = in
		e.exp.set(x, lr.Expires)
		e.markInput(x, x)
	}
	for _, id := range sortedKeys(ch.Predicates) {
		x := m.index[id]
		v := ch.Predicates[id]
		e.preds[x] = predInput{value: v.Value, expires: v.Expires}
		e.exp.set(x, v.Expires)
		e.markInput(x, x)
	}
	for _, id := range sortedKeys(ch.Defeaters) {
		x := m.index[id]
		a := ch.Defeaters[id]
		e.assess[x] = a
		e.exp.set(x, acceptanceExpiry(a))
		e.markInput(x, x)
	}
	for _, id := range sortedKeys(ch.Hashes) {
		x := m.index[id]
		if e.hash[x] == ch.Hashes[id] {
			continue
		}
		e.hash[x] = ch.Hashes[id]
		for _, p := range m.nodes[x].parents {
			e.markInput(p, x)
		}
	}
	for _, r := range ch.Reviews {
		x, c := m.index[r.Parent], m.index[r.Child]
		i, _ := slices.BinarySearch(m.nodes[x].children, c)
		if e.reviewed[x][i] == r.Hash {
			continue
		}
		e.reviewed[x] = slices.Clone(e.reviewed[x]) // the model's slice is shared
		e.reviewed[x][i] = r.Hash
		e.markInput(x, x)
	}
}

func acceptanceExpiry(a Assessment) time.Time {
	if a.State == AcceptedResidual {
		return a.Acceptance.Expires
	}
	return time.Time{}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
