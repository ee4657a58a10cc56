package response

import (
	"fmt"
	"strings"
	"time"
)

// Kind is what a trigger reports.
type Kind string

// The trigger kinds a playbook's "on" lists.
const (
	// KindEvent is a telemetry event (flow, auth, alert, metric or deploy).
	KindEvent Kind = "event"
	// KindAlert is a detection raised by a sensor about an entity.
	KindAlert Kind = "alert"
	// KindAnomaly is an anomaly the operations twin detected (a new edge, a spike…).
	KindAnomaly Kind = "anomaly"
	// KindStatusChange is an assurance status change of a claim or case.
	KindStatusChange Kind = "status_change"
)

// Kinds lists every trigger kind.
func Kinds() []Kind { return []Kind{KindEvent, KindAlert, KindAnomaly, KindStatusChange} }

func validKind(k Kind) bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}

// Trigger is what may set off a playbook. The caller fills it from telemetry, anomalies and
// assurance status changes; expressions read its fields under the names of their expr tags
// (trigger.kind, trigger.src_zone, trigger.fields.port…). Fields that do not apply stay empty.
type Trigger struct {
	// ID identifies the trigger (a CloudEvents id, an anomaly id); action ids derive from it,
	// so a trigger delivered twice gives the same ids. Empty: the engine assigns one.
	ID   string    `json:"id"`
	Kind Kind      `json:"kind"`
	At   time.Time `json:"at"` // when it happened; zero: when the engine saw it
	Twin string    `json:"twin"`
	// Entity is what the trigger is about: a host, service, address or assurance element.
	Entity string `json:"entity,omitempty"`
	// Type refines Kind: the telemetry kind of an event (flow, auth…), the rule of an alert,
	// the detector of an anomaly (new_edge), the element kind of a status change.
	Type     string  `json:"type,omitempty"`
	Severity string  `json:"severity,omitempty"` // LOW, MEDIUM, HIGH or CRITICAL
	Score    float64 `json:"score,omitempty"`    // an anomaly score, a CVSS score…
	Src      string  `json:"src,omitempty"`
	Dst      string  `json:"dst,omitempty"`
	Zone     string  `json:"zone,omitempty"` // the entity's zone
	SrcZone  string  `json:"src_zone,omitempty"`
	DstZone  string  `json:"dst_zone,omitempty"`
	// Status and Previous are a status change's new and old status (UNDERMINED, SUPPORTED…).
	Status   string `json:"status,omitempty"`
	Previous string `json:"previous,omitempty"`
	Message  string `json:"message,omitempty"`
	// Fields holds anything else (a flow's port, an auth's principal), as decoded from JSON.
	Fields map[string]any `json:"fields,omitempty"`
}

// maxSummary bounds a trigger's summary in audit records.
const maxSummary = 240

// Summary is a one-line description of the trigger for audit records and defaults, such as
// "anomaly new_edge web-1: 10.0.1.5 -> 10.0.9.2 (dmz -> core)".
func (t Trigger) Summary() string {
	var b strings.Builder
	b.WriteString(string(t.Kind))
	for _, s := range []string{t.Type, t.Severity} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	if t.Entity != "" {
		b.WriteString(" " + t.Entity)
	}
	if t.Src != "" || t.Dst != "" {
		fmt.Fprintf(&b, ": %s -> %s", t.Src, t.Dst)
	}
	if t.SrcZone != "" || t.DstZone != "" {
		fmt.Fprintf(&b, " (%s -> %s)", t.SrcZone, t.DstZone)
	}
	if t.Status != "" {
		fmt.Fprintf(&b, ": %s -> %s", t.Previous, t.Status)
	}
	if t.Message != "" {
		b.WriteString(": " + t.Message)
	}
	return clip(b.String(), maxSummary)
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence, and drops control
// characters (telemetry is untrusted; audit records are read in terminals).
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// exprEnv is what expressions see: the trigger under the name "trigger". It mirrors Trigger
// with plain types (expr compares a named string type and a string literal as unequal).
type exprEnv struct {
	Trigger exprTrigger `expr:"trigger"`
}

type exprTrigger struct {
	ID       string         `expr:"id"`
	Kind     string         `expr:"kind"`
	At       time.Time      `expr:"at"`
	Twin     string         `expr:"twin"`
	Entity   string         `expr:"entity"`
	Type     string         `expr:"type"`
	Severity string         `expr:"severity"`
	Score    float64        `expr:"score"`
	Src      string         `expr:"src"`
	Dst      string         `expr:"dst"`
	Zone     string         `expr:"zone"`
	SrcZone  string         `expr:"src_zone"`
	DstZone  string         `expr:"dst_zone"`
	Status   string         `expr:"status"`
	Previous string         `expr:"previous"`
	Message  string         `expr:"message"`
	Fields   map[string]any `expr:"fields"`
}

func envOf(t Trigger) exprEnv {
	fields := t.Fields
	if fields == nil {
		fields = map[string]any{}
	}
	return exprEnv{Trigger: exprTrigger{
		ID: t.ID, Kind: string(t.Kind), At: t.At, Twin: t.Twin, Entity: t.Entity, Type: t.Type,
		Severity: t.Severity, Score: t.Score, Src: t.Src, Dst: t.Dst, Zone: t.Zone,
		SrcZone: t.SrcZone, DstZone: t.DstZone, Status: t.Status, Previous: t.Previous,
		Message: t.Message, Fields: fields,
	}}
}
