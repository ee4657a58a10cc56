package opstwin

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/gsn"
	"github.com/sectwin/sectwin/internal/events"
)

// CaseLoader (re)loads a stored case into live evaluation: assurancecase.Live.
type CaseLoader interface {
	Load(ctx context.Context, twin, id string) ([]events.StatusChanged, error)
}

// LayerResponse is the gsn2x layer in which a defeater created by a playbook records its
// provenance: the playbook, the action id and the trigger.
const LayerResponse = "sectwinResponse"

// defeaterEvidenceWindow is how long a trigger-backed defeater's evidence result holds before
// its query runs again without a change event (every change of the twin re-runs it: a
// cypher_check depends on the whole twin).
const defeaterEvidenceWindow = time.Hour

// caseEditor adds playbook defeaters to the twin's assurance cases (docs/playbooks.md).
type caseEditor struct {
	db  *graph.DB
	ev  events.NATS
	log zerolog.Logger

	mu sync.Mutex // serialises this server's edits of cases; live is set once before Start
	// live re-evaluates an edited case; nil: the case is stored and evaluated when next loaded.
	live CaseLoader
}

var errNoClaims = errors.New("no claim of the twin's assurance cases is about it")

// create challenges every claim (Goal) about the entity with a CounterGoal, one per claim,
// whose id is derived from the action's defeater id (playbook, action index, twin), the case and
// the claim: a retried or repeated action, or the same action about another name or address of
// the same host, finds its defeater already there and leaves it (and any triage of it) alone. Each edited case goes through what an import does (gsn2x's
// rules, sectwin's, evidence acceptance), is stored as its next version and re-evaluated.
func (c *caseEditor) create(ctx context.Context, d response.Defeater) error {
	nodes, err := c.db.EntityNodes(ctx, d.Twin, d.Entity)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("%w: defeater about %q: %w", response.ErrPermanent, d.Entity, errNoEntity)
	}
	claims := map[string][]string{} // case → claim ids
	for _, n := range nodes {
		about, err := c.db.ClaimsAbout(ctx, d.Twin, n)
		if err != nil {
			return err
		}
		for _, a := range about {
			if a.Element.Type == string(gsn.Goal) && !slices.Contains(claims[a.Case], a.Element.ID) {
				claims[a.Case] = append(claims[a.Case], a.Element.ID)
			}
		}
	}
	if len(claims) == 0 {
		return fmt.Errorf("%w: defeater about %q (%s): %w", response.ErrPermanent, d.Entity, refsString(nodes), errNoClaims)
	}
	spec, err := triggerEvidence(d)
	if err != nil {
		return fmt.Errorf("%w: defeater evidence: %w", response.ErrPermanent, err)
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(claims)) {
		if err := c.editCase(ctx, d, id, claims[id], spec); err != nil {
			errs = append(errs, fmt.Errorf("case %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// editCase adds the defeaters to one case, retrying when another edit of the case raced with
// this one, then re-evaluates it.
func (c *caseEditor) editCase(ctx context.Context, d response.Defeater, caseID string, claims []string, spec string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		added, err := c.tryEdit(ctx, d, caseID, claims, spec)
		if errors.Is(err, errRaced) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		if added > 0 {
			c.log.Info().Str("twin", d.Twin).Str("case", caseID).Strs("claims", claims).Str("playbook", d.Playbook).
				Str("action_id", d.ActionID).Int("defeaters", added).Msg("playbook defeaters added")
		}
		break
	}
	// Evaluated again even when nothing was added: an earlier attempt may have stored the case
	// and failed before its evaluation.
	if c.live == nil {
		c.log.Warn().Str("twin", d.Twin).Str("case", caseID).Msg("no live assurance evaluation: the defeater counts once the case is next loaded")
		return nil
	}
	if _, err := c.live.Load(ctx, d.Twin, caseID); err != nil {
		return fmt.Errorf("stored, but not evaluated: %w", err)
	}
	return nil
}

var errRaced = errors.New("the case changed while the defeater was added")

// tryEdit adds what is missing and stores the case; it returns how many defeaters it added.
func (c *caseEditor) tryEdit(ctx context.Context, d response.Defeater, caseID string, claims []string, spec string) (int, error) {
	stored, err := c.db.AssuranceCaseByID(ctx, d.Twin, caseID)
	if err != nil {
		return 0, err
	}
	var files map[string][]byte
	if err := json.Unmarshal([]byte(stored.Source), &files); err != nil {
		return 0, fmt.Errorf("%w: stored source: %w", response.ErrPermanent, err)
	}
	set, err := gsn.ParseSet(files)
	if err != nil {
		return 0, fmt.Errorf("%w: the stored case no longer parses: %w", response.ErrPermanent, err)
	}
	mods := make(map[string]*gsn.Module, len(set.Modules))
	for _, m := range set.Modules {
		mods[m.Name] = m.Clone()
	}
	added := 0
	for _, claim := range claims {
		id := DefeaterElementID(d.ID, caseID, claim)
		target := set.Element(claim)
		if set.Element(id) != nil || target == nil {
			continue
		}
		e, err := defeaterElement(d, id, claim, spec)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", response.ErrPermanent, err)
		}
		m := mods[target.Module]
		e.Module = m.Name
		m.Elements = append(m.Elements, e)
		added++
	}
	if added == 0 {
		return 0, nil
	}
	out := make(map[string][]byte, len(mods))
	for _, m := range mods {
		b, err := gsn.Export(m, nil)
		if err != nil {
			return 0, fmt.Errorf("%w: module %s: %w", response.ErrPermanent, m.Name, err)
		}
		out[m.File] = b
	}
	parsed, err := gsn.ParseSet(out)
	if err != nil {
		return 0, fmt.Errorf("%w: the case with the defeater does not validate: %w", response.ErrPermanent, err)
	}
	next, err := assurancecase.FromGSN(d.Twin, caseID, stored.Name, parsed, out, "playbook "+d.Playbook+" ("+d.ActionID+")", time.Now())
	if err != nil {
		return 0, fmt.Errorf("%w: %w", response.ErrPermanent, err)
	}
	if err := assurancecase.AcceptEvidence(ctx, assurancecase.TwinEvidence{DB: c.db}, next); err != nil {
		if errors.Is(err, assurancecase.ErrBadCase) {
			err = fmt.Errorf("%w: %w", response.ErrPermanent, err)
		}
		return 0, err
	}
	// Another editor (a person through editAssuranceCase, another replica) may have stored a
	// version since: the save refuses, and the edit starts again from it rather than lose its
	// changes.
	next.Replaces = stored.Version
	if _, err := c.db.SaveAssuranceCase(ctx, next); err != nil {
		switch {
		case errors.Is(err, graph.ErrCaseChanged):
			return 0, fmt.Errorf("%w: %w", errRaced, err)
		case errors.Is(err, graph.ErrBadCase):
			err = fmt.Errorf("%w: %w", response.ErrPermanent, err)
		}
		return 0, err
	}
	ch := events.Change{Twin: d.Twin, Op: events.OpAssuranceCase, Source: "playbook:" + d.Playbook, At: time.Now().UTC(),
		Nodes: []graph.NodeRef{{Label: graph.LabelAssuranceCase, Key: caseID}}}
	if err := c.ev.Publish(ctx, ch); err != nil {
		c.log.Warn().Err(err).Str("twin", d.Twin).Str("case", caseID).Msg("case change event not published")
	}
	return added, nil
}

// DefeaterElementID is the id of the CounterGoal a playbook's defeater action adds to a case
// against a claim: "CGpb" and 16 hex digits of a hash of the action's defeater id (playbook,
// action index, twin), the case and the claim.
func DefeaterElementID(defeaterID, caseID, claim string) string {
	sum := sha256.Sum256([]byte(defeaterID + "\x00" + caseID + "\x00" + claim))
	return "CGpb" + hex.EncodeToString(sum[:8])
}

// defeaterElement builds the CounterGoal challenging claim.
func defeaterElement(d response.Defeater, id, claim, spec string) (*gsn.Element, error) {
	e := &gsn.Element{ID: id, Type: gsn.CounterGoal, Text: d.Text, Challenges: &gsn.Challenge{Target: claim}}
	layer := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		val, err := gsn.ParseValue(b)
		if err != nil {
			return fmt.Errorf("layer %s: %w", key, err)
		}
		e.Layers = append(e.Layers, gsn.Layer{Key: key, Value: val})
		return nil
	}
	if err := layer(assurancecase.LayerDefeater, map[string]string{"kind": d.Kind, "severity": d.Severity, "state": "OPEN"}); err != nil {
		return nil, err
	}
	if spec != "" {
		val, err := gsn.ParseValue([]byte(spec))
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		e.Layers = append(e.Layers, gsn.Layer{Key: assurancecase.LayerEvidence, Value: val})
	}
	prov := map[string]string{"playbook": d.Playbook, "action_id": d.ActionID, "trigger": d.TriggerID, "trigger_kind": string(d.TriggerKind),
		"entity": d.Entity, "at": time.Now().UTC().Format(time.RFC3339)}
	if err := layer(LayerResponse, prov); err != nil {
		return nil, err
	}
	return e, nil
}

// triggerEvidence is the evidence spec (JSON) backing a defeater with its trigger, or "": for
// an anomaly, the Anomaly node the trigger names; for an alert, an Alert of the same source,
// rule and entity. The query must return nothing for the evidence to pass, so while the
// anomaly or alert is in the twin the evidence fails and the defeater is sustained; once it is
// gone (deleted, expired by retention) the evidence passes and the defeater is refuted. A
// person's triage of the defeater takes precedence either way.
func triggerEvidence(d response.Defeater) (string, error) {
	if d.Evidence != response.DefeaterEvidenceTrigger {
		return "", nil
	}
	t := d.Trigger
	var q evidence.CypherCheck
	switch t.Kind {
	case response.KindAnomaly:
		q = evidence.CypherCheck{Query: "MATCH (a:Anomaly {twin: $twin, key: $anomaly}) RETURN a LIMIT 1",
			Params: map[string]any{"anomaly": t.ID}}
	case response.KindAlert:
		source, _ := t.Fields["source"].(string)
		if source == "" || t.Type == "" || t.Entity == "" {
			return "", nil
		}
		q = evidence.CypherCheck{Query: "MATCH (a:Alert {twin: $twin, source: $source, rule: $rule, entity: $entity}) RETURN a LIMIT 1",
			Params: map[string]any{"source": source, "rule": t.Type, "entity": t.Entity}}
	default:
		return "", nil
	}
	q.Expect = evidence.ExpectNone
	s := evidence.Spec{ID: "trigger " + t.ID, Kind: evidence.KindCypherCheck, Window: evidence.Duration(defeaterEvidenceWindow), Cypher: &q}
	if err := s.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(s)
	return string(b), err
}

func refsString(ns []graph.NodeRef) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.String()
	}
	slices.SortFunc(s, cmp.Compare)
	return fmt.Sprint(s)
}

// UseAssurance makes the playbooks' defeaters take effect at once: each case they edit is
// reloaded into live evaluation (assurancecase.Live). Call it before Start.
func (s *Service) UseAssurance(l CaseLoader) { s.cases.live = l }
