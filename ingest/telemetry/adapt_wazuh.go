package telemetry

import (
	"slices"
	"strings"

	"github.com/sectwin/sectwin/edge/decode"
)

// wazuhAdapter maps Wazuh alerts (alerts.json lines, or an OpenSearch hit with the alert
// under _source) to an alert: rule rule.id (else rule.description), severity from rule.level
// (0–6 LOW, 7–11 MEDIUM, 12–14 HIGH, 15 and above CRITICAL, as the Wazuh dashboard ranks
// them), entity agent.name (else agent.id, else manager.name), message rule.description,
// technique rule.mitre.id. An alert whose rule.groups say authentication_success or
// authentication_failed, and which names the user (data.dstuser, data.srcuser, data.user or
// the Windows targetUserName), also gives an auth event: src data.srcip, target the agent.
type wazuhAdapter struct{}

// Adapt implements Adapter.
func (wazuhAdapter) Adapt(rec decode.Record) ([]Event, error) { return adaptWazuh(view{rec: rec}) }

// wazuhView reads an alert, or the alert inside an OpenSearch hit.
func wazuhView(rec decode.Record) view {
	for _, k := range []string{"_source.rule.level", "_source.rule.id", "_source.rule.description"} {
		if _, ok := rec[k]; ok {
			return view{rec: rec, prefix: "_source."}
		}
	}
	return view{rec: rec}
}

func adaptWazuh(v view) ([]Event, error) {
	if v.prefix == "" {
		v = wazuhView(v.rec)
	}
	rule, ok := v.first("rule.id", "rule.description")
	if !ok {
		return nil, fieldErr("record.rule.id", "missing")
	}
	ts, err := v.time("timestamp", "@timestamp")
	if err != nil {
		return nil, err
	}
	sev := SeverityLow
	if f, ok, err := v.number("rule.level"); err != nil {
		return nil, err
	} else if ok {
		switch {
		case f >= 15:
			sev = SeverityCritical
		case f >= 12:
			sev = SeverityHigh
		case f >= 7:
			sev = SeverityMedium
		}
	}
	entity := v.firstOr(Unknown, "agent.name", "agent.id", "manager.name")
	desc, _ := v.text("rule.description")
	ev := newEvent(SourceWazuh, v.rec, 0, ts)
	ev.Kind = KindAlert
	ev.Alert = &Alert{
		Source:    SourceWazuh,
		Rule:      rule,
		Severity:  sev,
		Entity:    entity,
		Message:   message(desc),
		Technique: technique(v.strings("rule.mitre.id")),
	}
	evs := []Event{ev}
	groups := v.strings("rule.groups")
	outcome := ""
	switch {
	case slices.ContainsFunc(groups, func(g string) bool { return strings.EqualFold(g, "authentication_success") }):
		outcome = OutcomeSuccess
	case slices.ContainsFunc(groups, func(g string) bool { return strings.EqualFold(g, "authentication_failed") }):
		outcome = OutcomeFailure
	}
	if user, ok := v.first("data.dstuser", "data.srcuser", "data.user", "data.win.eventdata.targetUserName"); ok && outcome != "" {
		a := newEvent(SourceWazuh, v.rec, 1, ts)
		a.Kind = KindAuth
		a.Auth = &Auth{
			Principal: user,
			Outcome:   outcome,
			Src:       v.firstOr("", "data.srcip", "data.win.eventdata.ipAddress"),
			Target:    v.firstOr("", "agent.name", "agent.id"),
		}
		if lat, ok := v.text("GeoLocation.location.lat"); ok {
			if lon, ok := v.text("GeoLocation.location.lon"); ok && locationRE.MatchString(lat+","+lon) {
				a.Auth.Location = lat + "," + lon
			}
		}
		evs = append(evs, a)
	}
	return evs, nil
}
