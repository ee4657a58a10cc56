package telemetry

import (
	"strings"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

// suricataAdapter maps Suricata EVE events:
//
//   - alert → alert: rule alert.signature_id (else alert.signature), severity from
//     alert.severity (1 HIGH, 2 MEDIUM, 3 and 4 LOW, CRITICAL when the rule's metadata says
//     signature_severity Critical), entity alert.target.ip, else dest_ip, else src_ip,
//     message alert.signature, technique from alert.metadata.mitre_technique_id;
//   - flow and netflow → flow: src_ip, dest_ip, dest_port, proto, bytes and packets both ways;
//   - anomaly → alert: rule anomaly.type, severity LOW, message anomaly.event;
//   - anything else (dns, http, tls, fileinfo, stats…) is skipped.
type suricataAdapter struct{}

// Adapt implements Adapter.
func (suricataAdapter) Adapt(rec decode.Record) ([]Event, error) {
	return adaptSuricata(view{rec: rec})
}

func adaptSuricata(v view) ([]Event, error) {
	et, ok := v.text("event_type")
	if !ok {
		return nil, fieldErr("record.event_type", "missing")
	}
	switch et {
	case "alert", "anomaly", "flow", "netflow":
	default:
		return nil, skip("suricata event_type %s", token(et))
	}
	ts, err := v.time("timestamp")
	if err != nil {
		return nil, err
	}
	ev := newEvent(SourceSuricata, v.rec, 0, ts)
	switch et {
	case "alert":
		rule, ok := v.first("alert.signature_id", "alert.signature")
		if !ok {
			return nil, fieldErr("record.alert.signature_id", "missing")
		}
		sev := SeverityMedium
		if f, ok, err := v.number("alert.severity"); err != nil {
			return nil, err
		} else if ok {
			switch int(f) {
			case 1:
				sev = SeverityHigh
			case 2:
				sev = SeverityMedium
			case 3, 4:
				sev = SeverityLow
			}
		}
		for _, s := range v.strings("alert.metadata.signature_severity") {
			if strings.EqualFold(s, "critical") {
				sev = SeverityCritical
			}
		}
		sig, _ := v.text("alert.signature")
		ev.Kind = KindAlert
		ev.Alert = &Alert{
			Source:    SourceSuricata,
			Rule:      rule,
			Severity:  sev,
			Entity:    v.firstOr(Unknown, "alert.target.ip", "dest_ip", "src_ip", "host"),
			Message:   message(sig),
			Technique: technique(v.strings("alert.metadata.mitre_technique_id")),
		}
	case "anomaly":
		msg, _ := v.text("anomaly.event")
		if layer, ok := v.text("anomaly.layer"); ok {
			msg = strings.TrimSpace(msg + " (" + layer + ")")
		}
		ev.Kind = KindAlert
		ev.Alert = &Alert{
			Source:   SourceSuricata,
			Rule:     v.firstOr("anomaly", "anomaly.type"),
			Severity: SeverityLow,
			Entity:   v.firstOr(Unknown, "dest_ip", "src_ip", "host"),
			Message:  message(msg),
		}
	case "flow", "netflow":
		f, t, err := suricataFlow(v, et)
		if err != nil {
			return nil, err
		}
		if !t.IsZero() {
			ev.Time = t
		}
		ev.Kind = KindFlow
		ev.Flow = f
	}
	return []Event{ev}, nil
}

// suricataFlow reads a flow or netflow event; t is its start when it has one.
func suricataFlow(v view, et string) (f *Flow, t time.Time, err error) {
	src, ok := v.text("src_ip")
	if !ok {
		return nil, t, fieldErr("record.src_ip", "missing")
	}
	dst, ok := v.text("dest_ip")
	if !ok {
		return nil, t, fieldErr("record.dest_ip", "missing")
	}
	proto, ok := v.text("proto")
	if !ok {
		return nil, t, fieldErr("record.proto", "missing")
	}
	port, err := v.port("dest_port")
	if err != nil {
		return nil, t, err
	}
	f = &Flow{Src: src, Dst: dst, Proto: protoName(proto)}
	f.Port = flowPort(f.Proto, port)
	bytesKeys := []string{"flow.bytes_toserver", "flow.bytes_toclient"}
	pktKeys := []string{"flow.pkts_toserver", "flow.pkts_toclient"}
	start := "flow.start"
	if et == "netflow" {
		bytesKeys, pktKeys, start = []string{"netflow.bytes"}, []string{"netflow.pkts"}, "netflow.start"
	}
	if f.Bytes, _, err = v.sum(bytesKeys...); err != nil {
		return nil, t, err
	}
	if f.Packets, _, err = v.sum(pktKeys...); err != nil {
		return nil, t, err
	}
	if v.has(start) {
		if t, err = v.time(start); err != nil {
			return nil, t, err
		}
	}
	return f, t, nil
}
