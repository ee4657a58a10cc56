package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

// noRuntimeAlerts: an alert is a runtime event received within the window (after now − window)
// describing the subject or its zone whose field has one of the alert kinds. Any alert fails
// the spec (naming the alerts, expiring when the newest leaves the window). Without one, the
// monitor must be alive: silence is not success. Its newest release must be younger than
// heartbeat.within, or the result is MONITOR_SILENT; a PASS expires into MONITOR_SILENT when
// the heartbeat is due.
func (e *evaluation) noRuntimeAlerts() (Result, error) {
	ref := e.s.Subject.Ref()
	if ref.Label != LabelTwin {
		if _, done, err := e.subject(false); done != nil || err != nil {
			return deref(done), err
		}
	}
	since := e.now.Add(-e.win)
	a := e.s.Alerts
	var alerts []Event
	err := e.st.Events(e.ctx, e.twin, EventQuery{Subject: ref, Since: since, Contains: needles(a.Kinds)}, func(ev Event) error {
		if ev.At.After(since) && a.matches(ev.Data) {
			alerts = append(alerts, ev)
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("runtime events: %w", err)
	}
	// Events are new nodes, and they reach the subject through its zone membership.
	e.read(LabelEdgeEvent)
	e.read(LabelZone)
	e.read(LabelHost)
	if len(alerts) > 0 {
		slices.SortFunc(alerts, func(x, y Event) int { return cmpTimeDesc(x.At, y.At, x.ID, y.ID) })
		ids := make([]string, len(alerts))
		for i, ev := range alerts {
			ids[i] = ev.ID
		}
		newest := alerts[0].At
		return e.decided(e.violation(), ids, newest, newest.Add(e.win), e.win,
			fmt.Sprintf("%s (%s in %s) about %s within %s, the newest %s ago", plural(len(alerts), "runtime alert"),
				a.Field, strings.Join(a.Kinds, ", "), ref, e.s.Window, age(e.now, newest))), nil
	}
	hb := e.s.Heartbeat
	return e.alive(*hb, hb.Within.D(), fmt.Sprintf("no runtime alert (%s in %s) about %s within %s",
		a.Field, strings.Join(a.Kinds, ", "), ref, e.s.Window))
}

// heartbeat: the monitor's newest release must be younger than the window.
func (e *evaluation) heartbeat() (Result, error) {
	return e.alive(*e.s.Heartbeat, e.win, "")
}

// alive applies rule 5: a PASS while the monitor's newest release is younger than within,
// expiring into MONITOR_SILENT when it is due.
func (e *evaluation) alive(hb HeartbeatSource, within time.Duration, pass string) (Result, error) {
	at, err := e.st.LatestRelease(e.ctx, e.twin, hb.Site, hb.Pipeline)
	if err != nil {
		return Result{}, fmt.Errorf("heartbeat: %w", err)
	}
	e.read(LabelEdgeEvent)
	e.read(LabelEdgeAggregate)
	monitor := "site " + hb.Site
	if hb.Pipeline != "" {
		monitor += " pipeline " + hb.Pipeline
	}
	if at.IsZero() {
		return unknown(assurance.MonitorSilent, nil, "the monitor (%s) has never released anything", monitor), nil
	}
	due := at.Add(within)
	if !e.now.Before(due) {
		r := unknown(assurance.MonitorSilent, nil, "the monitor (%s) has been silent for %s, longer than %s", monitor, age(e.now, at), Duration(within))
		r.Collected = at
		return r, nil
	}
	msg := fmt.Sprintf("the monitor (%s) released %s ago", monitor, age(e.now, at))
	if pass != "" {
		msg = pass + "; " + msg
	}
	r := e.decided(Pass, nil, at, due, within, msg)
	r.OnExpiry = assurance.MonitorSilent
	return r, nil
}

// needles are lower-case strings the lower-cased JSON of an alert must contain, for the store
// to skip other events early: the alert kinds (without a trailing *), when every one is plain
// enough (letters, digits, space, _ . : -) to be written verbatim in JSON; otherwise none.
func needles(kinds []string) []string {
	var out []string
	for _, k := range kinds {
		k = strings.TrimSuffix(k, "*")
		if k == "" {
			return nil
		}
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" _.:-", r)) {
				return nil
			}
		}
		out = append(out, strings.ToLower(k))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// matches reports whether released JSON is an alert: its field has one of the kinds.
func (a *AlertCriteria) matches(data string) bool {
	dec := json.NewDecoder(bytes.NewReader([]byte(data)))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return false
	}
	v, ok := doc[a.Field]
	if !ok {
		// A dotted path into nested objects.
		var cur any = doc
		for part := range strings.SplitSeq(a.Field, ".") {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return false
			}
			if cur, ok = m[part]; !ok {
				return false
			}
		}
		v = cur
	}
	values := []any{v}
	if list, isList := v.([]any); isList {
		values = list
	}
	for _, x := range values {
		var s string
		switch t := x.(type) {
		case string:
			s = t
		case json.Number:
			s = t.String()
		case bool:
			s = fmt.Sprint(t)
		default:
			continue
		}
		for _, k := range a.Kinds {
			if k == "*" || strings.EqualFold(s, k) ||
				strings.HasSuffix(k, "*") && len(s) >= len(k)-1 && strings.EqualFold(s[:len(k)-1], k[:len(k)-1]) {
				return true
			}
		}
	}
	return false
}

func cmpTimeDesc(a, b time.Time, ida, idb string) int {
	switch {
	case a.After(b):
		return -1
	case b.After(a):
		return 1
	}
	return strings.Compare(ida, idb)
}

// attestation: the evidence is the newest selected attestation about the subject as it is now
// (its global id, and the digest the attestation names, if any, among the current ones).
// Attestations only about an older digest give SUBJECT_CHANGED. It holds until
// min(expires, at + window), then EVIDENCE_STALE; its verdict (PASS when unstated) decides.
// An invalid attestation (Attestation.Validate: no expiry, which the design makes mandatory, or
// an unknown verdict) is an error.
func (e *evaluation) attestation() (Result, error) {
	if id := e.s.Attestation.ID; id != "" {
		e.read(LabelAttestation, id)
	} else {
		e.read(LabelAttestation)
	}
	v, done, err := e.subject(false)
	if done != nil || err != nil {
		return deref(done), err
	}
	sel := e.s.Attestation
	atts, err := e.st.Attestations(e.ctx, e.twin, AttestationQuery{ID: sel.ID, Topic: sel.Topic})
	if err != nil {
		return Result{}, fmt.Errorf("attestations: %w", err)
	}
	what := "attestation " + sel.ID
	if sel.ID == "" {
		what = "attestation of topic " + sel.Topic
	}
	ids := v.ids()
	digests := artifactKeys(v.current)
	lineage := artifactIDs(v.lineage)
	var current, older []Attestation
	for _, a := range atts {
		if sel.ID != "" && a.ID != sel.ID || sel.ID == "" && a.Topic != sel.Topic {
			continue // a store that returned too much
		}
		switch {
		case slices.Contains(ids, a.Subject) && (a.SubjectDigest == "" || len(digests) == 0 || slices.Contains(digests, a.SubjectDigest)):
			current = append(current, a)
		case slices.Contains(ids, a.Subject) || slices.Contains(lineage, a.Subject):
			older = append(older, a)
		}
	}
	if len(current) == 0 {
		if len(older) > 0 {
			var culprits []string
			for _, a := range older {
				culprits = append(culprits, a.GlobalID)
			}
			return unknown(assurance.SubjectChanged, culprits, "the %s is about an older digest of %s", what, v.ref), nil
		}
		return unknown(assurance.EvidenceMissing, nil, "no %s about %s", what, v.ref), nil
	}
	a := current[0]
	for _, x := range current[1:] {
		if x.At.After(a.At) || x.At.Equal(a.At) && x.ID > a.ID {
			a = x
		}
	}
	if err := a.Validate(); err != nil {
		return Result{}, fmt.Errorf("attestation %s: %w", a.ID, err)
	}
	expires := a.Expires
	if w := a.At.Add(e.win); w.Before(expires) {
		expires = w
	}
	if !e.now.Before(expires) {
		r := unknown(assurance.EvidenceStale, []string{a.GlobalID}, "attestation %s by %s (%s) expired %s ago",
			a.ID, a.By, a.At.UTC().Format(time.DateOnly), age(e.now, expires))
		r.Evidence, r.Collected = []string{a.GlobalID}, a.At
		return r, nil
	}
	verdict := a.Verdict
	if verdict == "" {
		verdict = Pass
	}
	var culprits []string
	if verdict != Pass {
		culprits = []string{a.GlobalID}
	}
	r := e.decided(verdict, culprits, a.At, expires, e.win, fmt.Sprintf("attestation %s by %s on %s (%s): %s",
		a.ID, a.By, a.At.UTC().Format(time.DateOnly), verdict, clip(a.Statement)))
	r.Evidence = []string{a.GlobalID}
	return r, nil
}

// cypherCheck runs the query (its plan checked first, CheckPlan) and compares the rows with
// the expectation. The result is live: collected now, it holds for the window.
func (e *evaluation) cypherCheck() (Result, error) {
	e.read(AnyLabel)
	rows, err := e.st.RunCypher(e.ctx, e.twin, e.s.cypherQuery(), CheckPlan)
	if err != nil {
		var le *lintError
		if errors.As(err, &le) {
			return Result{}, fmt.Errorf("cypher check refused: %w", err)
		}
		return Result{}, fmt.Errorf("cypher check: %w", err)
	}
	n := fmt.Sprint(rows.Rows)
	if rows.Truncated {
		n = "more than " + n
	}
	expires := e.now.Add(e.win)
	if e.s.Cypher.Expect == ExpectSome {
		if rows.Rows > 0 {
			return e.decided(Pass, nil, e.now, expires, e.win, fmt.Sprintf("the query returned %s rows, as expected", n)), nil
		}
		return e.decided(e.violation(), nil, e.now, expires, e.win, "the query returned no rows; at least one was expected"), nil
	}
	if rows.Rows == 0 {
		return e.decided(Pass, nil, e.now, expires, e.win, "the query returned no rows"), nil
	}
	return e.decided(e.violation(), rows.Culprits, e.now, expires, e.win, fmt.Sprintf("the query returned %s rows; none were expected", n)), nil
}
