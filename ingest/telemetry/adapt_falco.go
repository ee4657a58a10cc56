package telemetry

import (
	"strings"

	"github.com/sectwin/sectwin/edge/decode"
)

// falcoAdapter maps Falco's JSON alerts (json_output: true) to alerts: rule, severity from
// priority (Emergency, Alert, Critical → CRITICAL; Error → HIGH; Warning → MEDIUM; Notice,
// Informational, Debug → LOW), entity from output_fields (k8s namespace/pod, else the
// container's name or id when it is not "host"), else hostname, else Unknown; message output,
// technique from a tag such as T1059.
type falcoAdapter struct{}

// Adapt implements Adapter.
func (falcoAdapter) Adapt(rec decode.Record) ([]Event, error) { return adaptFalco(view{rec: rec}) }

func adaptFalco(v view) ([]Event, error) {
	rule, ok := v.text("rule")
	if !ok {
		return nil, fieldErr("record.rule", "missing")
	}
	ts, err := v.time("time", "output_fields.evt.time", "output_fields.evt.time.iso8601")
	if err != nil {
		return nil, err
	}
	entity := Unknown
	switch {
	case v.has("output_fields.k8s.pod.name"):
		entity, _ = v.text("output_fields.k8s.pod.name")
		if ns, ok := v.text("output_fields.k8s.ns.name"); ok {
			entity = ns + "/" + entity
		}
	default:
		for _, k := range []string{"output_fields.container.name", "output_fields.container.id"} {
			if s, ok := v.text(k); ok && s != "host" && s != "<NA>" {
				entity = s
				break
			}
		}
		if entity == Unknown {
			entity = v.firstOr(Unknown, "hostname", "output_fields.evt.hostname")
		}
	}
	if entity == "" {
		entity = Unknown
	}
	out, _ := v.text("output")
	ev := newEvent(SourceFalco, v.rec, 0, ts)
	ev.Kind = KindAlert
	ev.Alert = &Alert{
		Source:    SourceFalco,
		Rule:      rule,
		Severity:  falcoSeverity(v.firstOr("", "priority")),
		Entity:    entity,
		Message:   message(out),
		Technique: technique(v.strings("tags")),
	}
	return []Event{ev}, nil
}

func falcoSeverity(p string) string {
	switch strings.ToLower(p) {
	case "emergency", "alert", "critical":
		return SeverityCritical
	case "error":
		return SeverityHigh
	case "notice", "informational", "info", "debug":
		return SeverityLow
	}
	return SeverityMedium // warning, or not given
}
