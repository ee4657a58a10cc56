// Package audit is the privacy manifest that travels with everything the edge collector
// releases: which config and key shaped it, which mechanism and budget protected it, and which
// ledger entry recorded the spend. The collector puts it in NATS headers; the twin side reads it
// back and stores it on what it writes.
package audit

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// Header names; every released message carries them.
const (
	HeaderConfigHash  = "Sectwin-Privacy-Config-Hash"
	HeaderKeyID       = "Sectwin-Privacy-Key-Id"
	HeaderMechanism   = "Sectwin-Privacy-Mechanism"
	HeaderEpsilon     = "Sectwin-Privacy-Epsilon"
	HeaderDelta       = "Sectwin-Privacy-Delta"
	HeaderGuarantee   = "Sectwin-Privacy-Guarantee"
	HeaderLedgerEntry = "Sectwin-Privacy-Ledger-Entry"
	HeaderSite        = "Sectwin-Edge-Site"
	HeaderPipeline    = "Sectwin-Edge-Pipeline"
	HeaderKind        = "Sectwin-Edge-Kind"
	// HeaderLinkLabel and HeaderLinkKey name the twin element a release describes (a Zone,
	// Service, Host or DataStore by its key), when the pipeline declares one.
	HeaderLinkLabel = "Sectwin-Edge-Link-Label"
	HeaderLinkKey   = "Sectwin-Edge-Link-Key"
)

// Kinds of released messages.
const (
	KindEvent     = "event"     // one minimised, pseudonymised record (the real-time lane)
	KindAggregate = "aggregate" // one DP release of a window (the aggregate lane)
)

// Mechanisms other than DP ones.
const (
	// MechanismMinimised is a record released without noise: allowlisted, masked, generalised
	// and pseudonymised, but not differentially private.
	MechanismMinimised = "minimised"
)

// ErrMissing marks a message without a complete privacy manifest: the twin side refuses it.
var ErrMissing = errors.New("privacy manifest missing")

// Manifest is the privacy manifest of one released message.
type Manifest struct {
	Site, Pipeline, Kind string
	ConfigHash           string // SHA-256 of the collector's config file
	KeyID                string // pseudonymisation key id and epoch; empty when no field was pseudonymised
	Mechanism            string // MechanismMinimised, or DP-Count, DP-Sum, DP-Mean…
	Epsilon              string // decimal ε of the release; empty without DP
	Delta                string // decimal δ; "0" for pure ε-DP
	Guarantee            string // event, w-event(w), per-unit; empty without DP
	LedgerEntry          string // hash of the budget-ledger entry that reserved the spend
}

// Header encodes m as NATS headers.
func (m Manifest) Header() nats.Header {
	h := nats.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(HeaderSite, m.Site)
	set(HeaderPipeline, m.Pipeline)
	set(HeaderKind, m.Kind)
	set(HeaderConfigHash, m.ConfigHash)
	set(HeaderKeyID, m.KeyID)
	set(HeaderMechanism, m.Mechanism)
	set(HeaderEpsilon, m.Epsilon)
	set(HeaderDelta, m.Delta)
	set(HeaderGuarantee, m.Guarantee)
	set(HeaderLedgerEntry, m.LedgerEntry)
	return h
}

// FromHeader reads a manifest back. A message without site, kind, config hash or mechanism, or
// a DP release without ε, guarantee and ledger entry, is refused with ErrMissing.
func FromHeader(h nats.Header) (Manifest, error) {
	m := Manifest{
		Site: h.Get(HeaderSite), Pipeline: h.Get(HeaderPipeline), Kind: h.Get(HeaderKind),
		ConfigHash: h.Get(HeaderConfigHash), KeyID: h.Get(HeaderKeyID), Mechanism: h.Get(HeaderMechanism),
		Epsilon: h.Get(HeaderEpsilon), Delta: h.Get(HeaderDelta), Guarantee: h.Get(HeaderGuarantee),
		LedgerEntry: h.Get(HeaderLedgerEntry),
	}
	var missing []string
	need := func(name, v string) {
		if v == "" {
			missing = append(missing, name)
		}
	}
	need(HeaderSite, m.Site)
	need(HeaderKind, m.Kind)
	need(HeaderConfigHash, m.ConfigHash)
	need(HeaderMechanism, m.Mechanism)
	if m.Kind != KindEvent && m.Kind != KindAggregate && m.Kind != "" {
		return m, fmt.Errorf("%w: unknown kind %q", ErrMissing, m.Kind)
	}
	if m.Mechanism != MechanismMinimised && m.Mechanism != "" {
		need(HeaderEpsilon, m.Epsilon)
		need(HeaderGuarantee, m.Guarantee)
		need(HeaderLedgerEntry, m.LedgerEntry)
		if m.Epsilon != "" {
			if eps, err := strconv.ParseFloat(m.Epsilon, 64); err != nil || eps <= 0 {
				return m, fmt.Errorf("%w: epsilon %q is not a positive number", ErrMissing, m.Epsilon)
			}
		}
	}
	if len(missing) > 0 {
		return m, fmt.Errorf("%w: no %v", ErrMissing, missing)
	}
	return m, nil
}
