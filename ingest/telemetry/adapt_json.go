package telemetry

import (
	"sort"
	"strings"

	"github.com/sectwin/sectwin/edge/decode"
)

// autoAdapter maps generic JSON records, such as the edge collector releases, by recognising
// each record's shape:
//
//   - event_type and timestamp: Suricata EVE;
//   - _path or id.orig_h: Zeek;
//   - a string rule with priority or output: Falco;
//   - rule.level or rule.id (or the same under _source): Wazuh;
//   - program, event and ts: an sshd-decoded auth line;
//   - metric, value and window_end: an edge collector aggregate → metric (entity the
//     partition as k=v pairs, sorted; "all" for none), a suppressed one skipped;
//   - id and type: a FIWARE entity;
//   - source and destination address columns: a flow table row.
//
// Any other record is skipped.
type autoAdapter struct{}

// Adapt implements Adapter.
func (autoAdapter) Adapt(rec decode.Record) ([]Event, error) {
	v := view{rec: rec}
	_, isRuleText := rec["rule"].(string)
	switch {
	case v.has("event_type") && v.has("timestamp"):
		return adaptSuricata(v)
	case v.has("_path") || v.has("id.orig_h"):
		return adaptZeek(v)
	case isRuleText && (v.has("priority") || v.has("output")):
		return adaptFalco(v)
	case v.has("rule.level") || v.has("rule.id") || v.has("_source.rule.level") || v.has("_source.rule.id"):
		return adaptWazuh(wazuhView(rec))
	case v.has("program") && v.has("event") && v.has("ts"):
		return adaptSSHD(v)
	case v.has("metric") && v.has("value") && v.has("window_end"):
		return adaptAggregate(v)
	case v.has("id") && v.has("type"):
		return adaptFIWARE(v)
	case isFlowRow(v):
		return adaptFlowCSV(v)
	}
	return nil, skip("json record of unknown shape")
}

// adaptAggregate maps an edge collector aggregate release (ingest/edge.Aggregate, its
// partition flattened to partition.<field>) to a metric.
func adaptAggregate(v view) ([]Event, error) {
	if b, ok := v.rec["suppressed"].(bool); ok && b {
		return nil, skip("edge aggregate suppressed")
	}
	name, ok := v.text("metric")
	if !ok {
		return nil, fieldErr("record.metric", "missing")
	}
	val, ok, err := v.number("value")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fieldErr("record.value", "missing")
	}
	ts, err := v.time("window_end")
	if err != nil {
		return nil, err
	}
	var parts []string
	for k := range v.rec {
		if f, ok := strings.CutPrefix(k, "partition."); ok {
			if s, ok := v.text(k); ok {
				parts = append(parts, f+"="+s)
			}
		}
	}
	sort.Strings(parts)
	entity := strings.Join(parts, ",")
	if entity == "" {
		entity = "all"
	}
	ev := newEvent("edge", v.rec, 0, ts)
	ev.Kind = KindMetric
	ev.Metric = &Metric{Entity: entity, Name: name, Value: val}
	return []Event{ev}, nil
}
