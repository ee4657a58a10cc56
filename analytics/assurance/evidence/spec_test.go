package evidence

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// examples are a valid spec of each kind, as written by hand (they are also the seeds of
// FuzzParseSpec, in testdata/fuzz/FuzzParseSpec).
var examples = map[Kind]string{
	KindNoOpenVulns: `id: payment-api-no-high-vulns
kind: no_open_vulns
subject: {service: payment-api}
window: 7d
scan: [trivy, grype]
vulns: {min_severity: high, min_epss: 0.1}
`,
	KindScanFresh: `kind: scan_fresh
subject: {artifact: payment-api, stage: running}
window: 1d12h
scan: [cyclonedx, trivy]
`,
	KindSARIFClean: `kind: sarif_clean
subject: {artifact: "sha256:0123abcd"}
window: 7d
scan: ["sarif:semgrep"]
findings: {rule_prefixes: [go.lang.security], tags: [owasp], min_severity: MEDIUM}
on_fail: degraded
`,
	KindNoRuntimeAlerts: `kind: no_runtime_alerts
subject: {zone: dmz}
window: 1h
alerts: {field: event_type, kinds: [alert, "anomaly*"]}
heartbeat: {site: edge-1, pipeline: suricata, within: 5m}
`,
	KindHeartbeat: `kind: heartbeat
window: 5m
heartbeat: {site: edge-1}
`,
	KindAttestation: `kind: attestation
subject: {service: payment-api}
window: 1w
weight: 0.6
attestation: {topic: annual-pentest}
`,
	KindCypherCheck: `kind: cypher_check
window: 1h
cypher:
  query: |
    MATCH (h:Host {twin: $twin})-[:IN_ZONE]->(:Zone {name: $zone})
    WHERE h.exposed RETURN h
  params: {zone: dmz}
  max_rows: 50
  timeout: 2s
`,
}

func validSpecs(t testing.TB) map[Kind]Spec {
	t.Helper()
	out := map[Kind]Spec{}
	for k, y := range examples {
		s, err := ParseYAML([]byte(y))
		if err != nil {
			t.Fatalf("example %s: %v", k, err)
		}
		out[k] = s
	}
	return out
}

func TestExamplesParse(t *testing.T) {
	specs := validSpecs(t)
	if len(specs) != len(Kinds()) {
		t.Fatalf("%d examples for %d kinds", len(specs), len(Kinds()))
	}
	for k, s := range specs {
		if s.Kind != k {
			t.Errorf("%s parsed as %s", k, s.Kind)
		}
		// JSON round trip: ParseJSON reads what encoding/json writes.
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSON(b)
		if err != nil {
			t.Fatalf("%s: ParseJSON(%s): %v", k, b, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s: JSON round trip\n got %+v\nwant %+v", k, back, s)
		}
		if deps := Dependencies(s); len(deps) == 0 {
			t.Errorf("%s: no dependencies", k)
		}
	}
	nv := specs[KindNoOpenVulns]
	if nv.Vulns.MinSeverity != "HIGH" || nv.Window.D() != 7*24*time.Hour || *nv.Vulns.MinEPSS != 0.1 {
		t.Errorf("no_open_vulns parsed as %+v %+v", nv, nv.Vulns)
	}
	if s := specs[KindSARIFClean]; s.OnFail != Degraded {
		t.Errorf("on_fail %q", s.OnFail)
	}
	if s := specs[KindScanFresh]; s.Window.D() != 36*time.Hour || s.Subject.Stage != StageRunning {
		t.Errorf("scan_fresh parsed as %+v", s)
	}
	if c := specs[KindCypherCheck].Cypher; c.Params["zone"] != "dmz" || c.Timeout.D() != 2*time.Second || c.MaxRows != 50 {
		t.Errorf("cypher parsed as %+v", c)
	}
}

func TestParseRefuses(t *testing.T) {
	cases := map[string]string{
		"unknown field":  "kind: heartbeat\nwindow: 5m\nheartbeat: {site: a}\nwindwo: 1h\n",
		"two documents":  "kind: heartbeat\nwindow: 5m\nheartbeat: {site: a}\n---\nkind: heartbeat\n",
		"empty":          "",
		"bad duration":   "kind: heartbeat\nwindow: 5 minutes\nheartbeat: {site: a}\n",
		"invalid spec":   "kind: heartbeat\nheartbeat: {site: a}\n",
		"map parameter":  "kind: cypher_check\nwindow: 1h\ncypher: {query: 'MATCH (n {twin: $twin}) WHERE n.x = $p RETURN n', params: {p: {a: 1}}}\n",
		"null parameter": "kind: cypher_check\nwindow: 1h\ncypher: {query: 'MATCH (n {twin: $twin}) WHERE n.x = $p RETURN n', params: {p: null}}\n",
	}
	for name, y := range cases {
		if _, err := ParseYAML([]byte(y)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	jsonCases := map[string]string{
		"unknown field": `{"kind":"heartbeat","window":"5m","heartbeat":{"site":"a"},"x":1}`,
		"trailing data": `{"kind":"heartbeat","window":"5m","heartbeat":{"site":"a"}} {}`,
		"not an object": `[]`,
	}
	for name, j := range jsonCases {
		if _, err := ParseJSON([]byte(j)); err == nil {
			t.Errorf("JSON %s: accepted", name)
		}
	}
	// Parameters come out as the types Neo4j takes.
	s, err := ParseJSON([]byte(`{"kind":"cypher_check","window":"1h","cypher":{"query":"MATCH (n {twin: $twin}) WHERE n.a = $i AND n.b = $f AND n.c IN $l RETURN n","params":{"i":3,"f":0.5,"l":[1,"x",true]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Cypher.Params; p["i"] != int64(3) || p["f"] != 0.5 || !reflect.DeepEqual(p["l"], []any{int64(1), "x", true}) {
		t.Fatalf("params %#v", p)
	}
}

func TestDuration(t *testing.T) {
	good := map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour,
		"90s": 90 * time.Second, "1.5h": 90 * time.Minute, "5m": 5 * time.Minute, "-1h": -time.Hour}
	for in, want := range good {
		d, err := ParseDuration(in)
		if err != nil || d.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, d.D(), err, want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("%q: String %q reads back as %v, %v", in, d.String(), back, err)
		}
	}
	for _, in := range []string{"", "7", "d", "7x", "1..5h", "99999999999999999999w", "h7"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
	if got := Duration(36 * time.Hour).String(); got != "1d12h" {
		t.Errorf("String = %q", got)
	}
}

// field returns the validation error for field, or nil.
func field(err error, name string) *ValidationError {
	var ves ValidationErrors
	if !errors.As(err, &ves) {
		return nil
	}
	for _, e := range ves {
		if e.Field == name {
			return e
		}
	}
	return nil
}

func TestValidate(t *testing.T) {
	specs := validSpecs(t)
	cases := []struct {
		name  string
		kind  Kind
		edit  func(*Spec)
		field string
		err   error
	}{
		{"missing window", KindHeartbeat, func(s *Spec) { s.Window = 0 }, "window", ErrInvalid},
		{"negative window", KindHeartbeat, func(s *Spec) { s.Window = -1 }, "window", ErrInvalid},
		{"window over ten years", KindScanFresh, func(s *Spec) { s.Window = Duration(MaxWindow + 1) }, "window", ErrInvalid},
		{"missing kind", KindHeartbeat, func(s *Spec) { s.Kind = "" }, "kind", ErrInvalid},
		{"unknown kind", KindHeartbeat, func(s *Spec) { s.Kind = "vibes" }, "kind", ErrInvalid},
		{"bad severity", KindNoOpenVulns, func(s *Spec) { s.Vulns = &VulnCriteria{MinSeverity: "SEVERE"} }, "vulns.min_severity", ErrInvalid},
		{"missing severity", KindNoOpenVulns, func(s *Spec) { s.Vulns = &VulnCriteria{} }, "vulns.min_severity", ErrInvalid},
		{"bad finding severity", KindSARIFClean, func(s *Spec) { s.Findings = &FindingCriteria{MinSeverity: "urgent"} }, "findings.min_severity", ErrInvalid},
		{"epss out of range", KindNoOpenVulns, func(s *Spec) { s.Vulns = &VulnCriteria{MinSeverity: "LOW", MinEPSS: ptr(1.5)} }, "vulns.min_epss", ErrInvalid},
		{"missing vulns", KindNoOpenVulns, func(s *Spec) { s.Vulns = nil }, "vulns", ErrInvalid},
		{"missing scan", KindNoOpenVulns, func(s *Spec) { s.Scan = nil }, "scan", ErrInvalid},
		{"unknown scan format", KindScanFresh, func(s *Spec) { s.Scan = []string{"nessus"} }, "scan[0]", ErrInvalid},
		{"sarif_clean with trivy", KindSARIFClean, func(s *Spec) { s.Scan = []string{"trivy"} }, "scan[0]", ErrInvalid},
		{"duplicate selector", KindScanFresh, func(s *Spec) { s.Scan = []string{"trivy", "TRIVY"} }, "scan[1]", ErrInvalid},
		{"missing subject", KindScanFresh, func(s *Spec) { s.Subject = nil }, "subject", ErrInvalid},
		{"two subjects", KindScanFresh, func(s *Spec) { s.Subject = &Subject{Service: "a", Host: "b"} }, "subject", ErrInvalid},
		{"subject kind refuses", KindScanFresh, func(s *Spec) { s.Subject = &Subject{Host: "h"} }, "subject.host", ErrInvalid},
		{"stage on a service", KindScanFresh, func(s *Spec) { s.Subject = &Subject{Service: "a", Stage: StageRunning} }, "subject.stage", ErrInvalid},
		{"subject on heartbeat", KindHeartbeat, func(s *Spec) { s.Subject = &Subject{Twin: true} }, "subject", ErrInvalid},
		{"block not taken", KindHeartbeat, func(s *Spec) { s.Vulns = &VulnCriteria{MinSeverity: "LOW"} }, "vulns", ErrInvalid},
		{"on_fail not taken", KindScanFresh, func(s *Spec) { s.OnFail = Degraded }, "on_fail", ErrInvalid},
		{"on_fail PASS", KindNoOpenVulns, func(s *Spec) { s.OnFail = Pass }, "on_fail", ErrInvalid},
		{"weight above 1", KindHeartbeat, func(s *Spec) { s.Weight = 1.5 }, "weight", ErrInvalid},
		{"alerts without kinds", KindNoRuntimeAlerts, func(s *Spec) { s.Alerts = &AlertCriteria{Field: "event_type"} }, "alerts.kinds", ErrInvalid},
		{"inner star", KindNoRuntimeAlerts, func(s *Spec) { s.Alerts = &AlertCriteria{Field: "f", Kinds: []string{"a*b"}} }, "alerts.kinds[0]", ErrInvalid},
		{"heartbeat within missing", KindNoRuntimeAlerts, func(s *Spec) { s.Heartbeat = &HeartbeatSource{Site: "a"} }, "heartbeat.within", ErrInvalid},
		{"heartbeat within on heartbeat", KindHeartbeat, func(s *Spec) { s.Heartbeat.Within = Duration(time.Minute) }, "heartbeat.within", ErrInvalid},
		{"heartbeat without site", KindHeartbeat, func(s *Spec) { s.Heartbeat = &HeartbeatSource{} }, "heartbeat.site", ErrInvalid},
		{"attestation without selector", KindAttestation, func(s *Spec) { s.Attestation = &AttestationSelector{} }, "attestation", ErrInvalid},
		{"attestation with both", KindAttestation, func(s *Spec) { s.Attestation = &AttestationSelector{ID: "a", Topic: "b"} }, "attestation", ErrInvalid},
		{"attestation missing", KindAttestation, func(s *Spec) { s.Attestation = nil }, "attestation", ErrInvalid},
		{"name with spaces", KindHeartbeat, func(s *Spec) { s.Heartbeat.Site = " edge" }, "heartbeat.site", ErrInvalid},
		{"cypher missing", KindCypherCheck, func(s *Spec) { s.Cypher = nil }, "cypher", ErrInvalid},
		{"cypher too many rows", KindCypherCheck, func(s *Spec) { s.Cypher.MaxRows = MaxCypherRows + 1 }, "cypher.max_rows", ErrUnbounded},
		{"cypher too long", KindCypherCheck, func(s *Spec) { s.Cypher.Timeout = Duration(time.Minute) }, "cypher.timeout", ErrUnbounded},
		{"cypher bad expect", KindCypherCheck, func(s *Spec) { s.Cypher.Expect = "all" }, "cypher.expect", ErrInvalid},
		{"cypher declares twin", KindCypherCheck, func(s *Spec) { s.Cypher.Params = map[string]any{"twin": "x", "zone": "a"} }, "cypher.params.twin", ErrInvalid},
		{"cypher bad param name", KindCypherCheck, func(s *Spec) { s.Cypher.Params = map[string]any{"zone": "a", "1x": "b"} }, "cypher.params.1x", ErrInvalid},
		{"cypher NaN param", KindCypherCheck, func(s *Spec) { s.Cypher.Params = map[string]any{"zone": "a", "f": nan()} }, "cypher.params.f", ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := clone(specs[c.kind])
			c.edit(&s)
			err := s.Validate()
			ve := field(err, c.field)
			if ve == nil {
				t.Fatalf("Validate() = %v, want an error on %s", err, c.field)
			}
			if !errors.Is(ve, c.err) || !errors.Is(err, c.err) {
				t.Fatalf("%s: %v does not wrap %v", c.field, ve, c.err)
			}
			if Dependencies(s) != nil {
				t.Error("dependencies of an invalid spec")
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

// clone deep-copies a spec through JSON, keeping the parameter types.
func clone(s Spec) Spec {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var out Spec
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	if s.Cypher != nil {
		out.Cypher.Params = map[string]any{}
		for k, v := range s.Cypher.Params {
			out.Cypher.Params[k] = v
		}
	}
	return out
}

func TestValidateListsEveryProblem(t *testing.T) {
	err := Spec{Kind: KindNoOpenVulns, Vulns: &VulnCriteria{MinSeverity: "bad"}}.Validate()
	for _, f := range []string{"window", "subject", "scan", "vulns.min_severity"} {
		if field(err, f) == nil {
			t.Errorf("no error on %s in %v", f, err)
		}
	}
	var ves ValidationErrors
	errors.As(err, &ves)
	if !slices.IsSortedFunc(ves, func(a, b *ValidationError) int { return strings.Compare(a.Field, b.Field) }) {
		t.Errorf("not sorted by field: %v", err)
	}
}

func TestCheckCypher(t *testing.T) {
	refused := []struct {
		query string
		err   error
	}{
		{"CREATE (n:Host {twin: $twin})", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) CREATE (n)-[:X]->(m)", ErrNotReadOnly},
		{"MERGE (n:Host {twin: $twin}) RETURN n", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) DELETE n", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) DETACH DELETE n", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) SET n.x = 1", ErrNotReadOnly},
		{"match (n {twin: $twin}) set n:Bad", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) REMOVE n.x", ErrNotReadOnly},
		{"LOAD CSV FROM 'file:///etc/passwd' AS l MATCH (n {twin: $twin}) RETURN l", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) CALL { WITH n RETURN n AS m } IN TRANSACTIONS RETURN m", ErrNotReadOnly},
		{"USE system MATCH (n {twin: $twin}) RETURN n", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) FOREACH (x IN [1] | SET n.y = x)", ErrNotReadOnly},
		{"DROP INDEX x", ErrNotReadOnly},
		{"SHOW USERS", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) CALL dbms.killQueries([]) YIELD queryId RETURN n", ErrNotReadOnly},
		{"MATCH (n {twin: $twin}) CALL apoc.create.node(['X'], {}) YIELD node RETURN node", ErrNotReadOnly},
		{"EXPLAIN MATCH (n {twin: $twin}) RETURN n", ErrNotReadOnly},
		{"MATCH (a {twin: $twin})-[*]->(b) RETURN b", ErrUnbounded},
		{"MATCH (a {twin: $twin})-[:R*2..]->(b) RETURN b", ErrUnbounded},
		{"MATCH (a {twin: $twin})-[:R*..50]->(b) RETURN b", ErrUnbounded},
		{"MATCH (a {twin: $twin}) ((x)-[:R]->(y)){1,} (b) RETURN b", ErrUnbounded},
		{"MATCH (a {twin: $twin}) ((x)-[:R]->(y)){1,99} (b) RETURN b", ErrUnbounded},
		{"MATCH (n) RETURN n", ErrInvalid},                                   // no $twin
		{"MATCH (n {twin: $twin}) WHERE n.x = $p RETURN n", ErrInvalid},      // undeclared
		{"MATCH (n {twin: $twin}) RETURN n; MATCH (m) DELETE m", ErrInvalid}, // two statements
		{"MATCH (n {twin: $twin} RETURN n", ErrInvalid},
		{"MATCH (n {twin: $twin}) RETURN 'open", ErrInvalid},
		{"MATCH (n {twin: $twin}) /* RETURN n", ErrInvalid},
		{"", ErrInvalid},
		// Conservative: a keyword as a bare variable name is refused; quote it.
		{"MATCH (n {twin: $twin}) RETURN n.x AS create", ErrNotReadOnly},
	}
	for _, c := range refused {
		err := CheckCypher(c.query, nil)
		if !errors.Is(err, c.err) {
			t.Errorf("CheckCypher(%q) = %v, want %v", c.query, err, c.err)
		}
	}
	// The same refusals through Validate, typed on the query's field.
	for _, c := range refused[:11] {
		s := Spec{Kind: KindCypherCheck, Window: Duration(time.Hour), Cypher: &CypherCheck{Query: c.query}}
		if ve := field(s.Validate(), "cypher.query"); ve == nil || !errors.Is(ve, ErrNotReadOnly) {
			t.Errorf("Validate(%q): %v", c.query, ve)
		}
	}
	accepted := []string{
		"MATCH (n:Host {twin: $twin}) RETURN n",
		"MATCH (n:Host {twin: $twin}) WHERE n.set = true AND n.delete IS NULL RETURN n.create AS `create`",
		"MATCH (n:Create {twin: $twin})-[:MERGE]->(m) RETURN {set: 1, remove: m}",
		"MATCH (n {twin: $twin}) WHERE n.note = 'CREATE (x) DELETE x' RETURN n // SET n.x = 1",
		"MATCH (n {twin: $twin}) /* LOAD CSV */ RETURN `delete`.x",
		"MATCH (a {twin: $twin})-[:R*1..10]->(b) RETURN b",
		"MATCH (a {twin: $twin})-[:R*3]->(b) RETURN b",
		"MATCH (a {twin: $twin}) ((x)-[:R]->(y)){1,5} (b) RETURN b",
		"MATCH (n {twin: $twin}) CALL { WITH n MATCH (n)--(m) RETURN count(m) AS c } RETURN n, c",
		"MATCH (n {twin: $twin}) CALL (n) { MATCH (n)--(m) RETURN count(m) AS c } RETURN n, c",
		"CALL db.labels() YIELD label MATCH (n {twin: $twin}) RETURN label",
		"MATCH (n {twin: $twin}) WHERE n.x IN $list AND n.y > $min RETURN n",
		"MATCH (n {twin: $twin}) WHERE n.ratio > 1.5 RETURN n[0..2]",
	}
	for _, q := range accepted {
		if err := CheckCypher(q, []string{"list", "min"}); err != nil {
			t.Errorf("CheckCypher(%q) = %v", q, err)
		}
	}
}

func TestDependencies(t *testing.T) {
	specs := validSpecs(t)
	cases := []struct {
		kind Kind
		edit func(*Spec)
		want []Dependency
	}{
		{KindHeartbeat, nil, []Dependency{{Label: LabelEdgeAggregate}, {Label: LabelEdgeEvent}}},
		{KindCypherCheck, nil, []Dependency{{Label: AnyLabel}}},
		{KindAttestation, func(s *Spec) { s.Attestation = &AttestationSelector{ID: "a1"}; s.Subject = &Subject{Host: "h1"} },
			[]Dependency{{Label: LabelAttestation, Key: "a1"}, {Label: LabelHost, Key: "h1"}}},
		{KindAttestation, nil, []Dependency{{Label: LabelArtifact}, {Label: LabelAttestation}, {Label: LabelService, Key: "payment-api"}}},
		{KindScanFresh, nil, []Dependency{{Label: LabelArtifact}, {Label: LabelScanRun}}},
		{KindNoRuntimeAlerts, nil, []Dependency{{Label: LabelEdgeAggregate}, {Label: LabelEdgeEvent}, {Label: LabelHost}, {Label: LabelZone}}},
	}
	for _, c := range cases {
		s := clone(specs[c.kind])
		if c.edit != nil {
			c.edit(&s)
		}
		got := Dependencies(s)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.kind, got, c.want)
		}
	}
	deps := Dependencies(specs[KindNoOpenVulns])
	if !Matches(deps, LabelService, "payment-api") || Matches(deps, LabelService, "other") || !Matches(deps, LabelVulnerability, "CVE-1") || Matches(deps, LabelEdgeEvent, "x") {
		t.Errorf("Matches over %v", deps)
	}
	if !Matches(Dependencies(specs[KindCypherCheck]), "Anything", "k") {
		t.Error("cypher_check does not depend on everything")
	}
}
