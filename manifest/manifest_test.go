package manifest_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/manifest"
)

const examplePath = "../examples/traffic-signals.yaml"

func readExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseExample(t testing.TB) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Parse("traffic-signals.yaml", readExample(t))
	if err != nil {
		t.Fatalf("the example does not parse:\n%v", err)
	}
	return m
}

// head is the start of every test manifest: spec's items begin on line 5.
const head = "apiVersion: sectwin/v1\nkind: Twin\nmetadata: {name: t}\nspec:\n"

// want is one expected problem: its line (0: none), its field and part of its message.
type want struct {
	line  int
	field string
	msg   string
}

func TestParseReportsEveryProblemWithItsPosition(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		in   string
		want []want // exactly these problems, in file order
	}{
		{"empty file", "", []want{{0, "", "empty manifest"}}},
		{"only whitespace", " \n  \n", []want{{0, "", "empty manifest"}}},
		{"only comments", "# nothing\n---\n# here\n", []want{{0, "", "empty manifest"}}},
		// For parser errors the line is where the unclosed construct starts; for scanner errors,
		// where the problem is.
		{"unclosed flow list", head + "  zones: [{name: a}\n  hosts: []\n", []want{{5, "", "YAML syntax: did not find expected ',' or ']'"}}},
		{"bad indentation", head + "  zones:\n    - name: a\n   hosts: []\n", []want{{5, "", "YAML syntax: did not find expected key"}}},
		{"colon in a plain value", head + "  zones:\n    - name: a\n      description: see: here\n", []want{{7, "", "YAML syntax: mapping values are not allowed in this context"}}},
		{"unterminated quote", head + "  zones:\n    - name: \"a\n", []want{{6, "", "YAML syntax: found unexpected end of stream"}}},
		{"tab indentation", head + "\tzones: []\n", []want{{5, "", "YAML syntax"}}},
		{"two documents", head + "  zones: []\n---\n" + head, []want{{7, "", "a second YAML document"}}},
		{"not a mapping", "- apiVersion: sectwin/v1\n", []want{{1, "", "a manifest is a mapping"}}},
		{"unknown top-level field", head + "  zones: []\nstatus: {}\n", []want{{6, "status", "unknown field; allowed: apiVersion, kind, metadata, spec"}}},
		{"misspelt field", "apiversion: sectwin/v1\nkind: Twin\nmetadata: {name: t}\nspec: {}\n", []want{
			{1, "apiversion", "did you mean apiVersion?"}, {1, "apiVersion", "required"}}},
		{"unknown nested field", head + "  zones: [{name: a}]\n  services:\n    - name: s\n      exposes: [{zone: a, port: 443, protocol: tcp}]\n",
			[]want{{8, "spec.services[0].exposes[0].protocol", "unknown field; allowed: zone, port, proto, endpoint"}}},
		{"field given twice", head + "  zones:\n    - name: a\n      name: b\n", []want{{7, "spec.zones[0].name", "given twice (first at line 6)"}}},
		{"unknown apiVersion", "apiVersion: sectwin/v2\nkind: Twin\nmetadata: {name: t}\nspec: {}\n", []want{{1, "apiVersion", `unsupported apiVersion "sectwin/v2"; this sectwin reads sectwin/v1`}}},
		{"missing apiVersion and kind", "metadata: {name: t}\nspec: {}\n", []want{{1, "apiVersion", "reads apiVersion: sectwin/v1"}, {1, "kind", "required"}}},
		{"wrong kind", "apiVersion: sectwin/v1\nkind: Deployment\nmetadata: {name: t}\nspec: {}\n", []want{{2, "kind", `unsupported kind "Deployment"; want Twin`}}},
		{"missing spec", "apiVersion: sectwin/v1\nkind: Twin\nmetadata: {name: t}\n", []want{{1, "spec", "required; write spec: {} to declare nothing"}}},
		{"missing name", "apiVersion: sectwin/v1\nkind: Twin\nmetadata: {description: x}\nspec: {}\n", []want{{3, "metadata.name", "required"}}},
		{"bad names", "apiVersion: sectwin/v1\nkind: Twin\nmetadata: {name: Traffic, twin: \"" + strings.Repeat("a", 64) + "\"}\nspec: {}\n", []want{
			{3, "metadata.name", `"Traffic" is not a valid name`}, {3, "metadata.twin", "not a valid twin name"}}},
		{"wrong types", head + "  zones:\n    - {name: a, internet: \"yes\", trust: 3}\n  hosts: h\n  services:\n    - {name: s, exposes: [{zone: a, port: \"443\"}]}\n", []want{
			{6, "spec.zones[0].internet", `want true or false, got string "yes"`},
			{6, "spec.zones[0].trust", "want a string, got integer 3 (quote it"},
			{7, "spec.hosts", `want a list, got string "h"`},
			{9, "spec.services[0].exposes[0].port", `want an integer, got string "443"`}}},
		{"spec not a mapping", head + "  - zones\n", []want{{5, "spec", "want a mapping, got a list"}}},
		{"null means unset", head + "  zones:\n    - {name: a, description: ~, internet: null}\n", nil},
		{"missing required fields", head + "  zones: [{description: no name}]\n  artifacts: [{name: img}]\n  reaches:\n    - {from: {zone: z}, to: {zone: z}}\n  services:\n    - {name: s, exposes: [{zone: z}]}\n  identities: [{type: USER}]\n", []want{
			{5, "spec.zones[0].name", "required"},
			{6, "spec.artifacts[0].digest", "required"},
			{8, "spec.reaches[0].port", "required: a port from 1 to 65535"},
			{8, "spec.reaches[0].from.zone", `no zone named "z"`},
			{8, "spec.reaches[0].to.zone", `no zone named "z"`},
			{10, "spec.services[0].exposes[0].port", "required"},
			{10, "spec.services[0].exposes[0].zone", `no zone named "z"`},
			{11, "spec.identities[0].name", "required"}}},
		{"bad port", head + "  zones: [{name: a}]\n  reaches: [{from: {zone: a}, to: {zone: a}, port: 65536}, {from: {zone: a}, to: {zone: a}, port: 0, proto: icmp}]\n", []want{
			{6, "spec.reaches[0].port", "65536 is not a port"}, {6, "spec.reaches[1].port", "0 is not a port"}, {6, "spec.reaches[1].proto", `"icmp" is not one of tcp, udp`}}},
		{"controls", head + "  zones: [{name: a, controls: [WAF, waf, Firewall]}]\n", []want{
			{5, "spec.zones[0].controls[1]", `"waf" is not one of WAF, IPS, EDR, MFA, PAM, ENCRYPTION (did you mean WAF?)`},
			{5, "spec.zones[0].controls[2]", `"Firewall" is not one of`}}},
		{"enums", head +
			"  zones: [{name: a, trust: high, criticality: SEVERE}]\n" +
			"  artifacts: [{digest: \"" + digest + "\", type: CONTAINER}]\n" +
			"  identities: [{name: i, type: GROUP, access: [{dataStore: d, mode: owner}]}]\n" +
			"  credentials: [{name: c, type: SECRET}]\n" +
			"  dataStores: [{name: d, classification: SECRET}]\n" +
			"  dataFlows: [{from: {dataStore: d}, to: {dataStore: d}, classification: TOP}]\n", []want{
			{5, "spec.zones[0].trust", `"high" is not one of UNTRUSTED, LOW, MEDIUM, HIGH (did you mean HIGH?)`},
			{5, "spec.zones[0].criticality", "is not one of LOW, MEDIUM, HIGH, CRITICAL"},
			{6, "spec.artifacts[0].type", "is not one of IMAGE, BUILD, PACKAGE"},
			{7, "spec.identities[0].type", "is not one of USER, SERVICE, ROLE"},
			{7, "spec.identities[0].access[0].mode", "is not one of read, write, admin"},
			{8, "spec.credentials[0].type", "is not one of PASSWORD, KEY, TOKEN, CERTIFICATE"},
			{9, "spec.dataStores[0].classification", "is not one of PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED"},
			{10, "spec.dataFlows[0].classification", "is not one of PUBLIC"}}},
		{"bad digests", head + "  artifacts:\n    - {digest: \"sha256:ABC\"}\n    - {digest: \"md5:" + strings.Repeat("0", 32) + "\"}\n    - {digest: \"sha512:" + strings.Repeat("0", 128) + "\"}\n", []want{
			{6, "spec.artifacts[0].digest", "is not a digest"}, {7, "spec.artifacts[1].digest", "is not a digest"}}},
		{"duplicates", head + "  zones: [{name: a}, {name: b}, {name: a}]\n  artifacts: [{digest: \"" + digest + "\"}, {digest: \"" + digest + "\"}]\n" +
			"  services: [{name: s, zone: a, hosts: [], credentials: [c, c]}]\n  credentials: [{name: c}]\n" +
			"  reaches: [{from: {zone: a}, to: {zone: b}, port: 22}, {from: {zone: a}, to: {zone: b}, port: 22, proto: tcp}, {from: {zone: a}, to: {zone: b}, port: 22, proto: udp}]\n", []want{
			{5, "spec.zones[2].name", `duplicate name "a": spec.zones[0] has it already`},
			{6, "spec.artifacts[1].digest", "duplicate digest: spec.artifacts[0]"},
			{7, "spec.services[0].credentials[1]", `"c" is listed twice`},
			{9, "spec.reaches[1]", "the same reach as spec.reaches[0]"}}},
		{"dangling references", head + "  zones: [{name: a}]\n  hosts: [{name: h, zone: b, runsAs: nobody}]\n  artifacts: [{digest: \"" + digest + "\", name: img}]\n" +
			"  services:\n    - {name: s, hosts: [h, ghost], runs: [img, other], credentials: [pw]}\n" +
			"  reaches: [{from: {service: s}, to: {service: t}, port: 443}]\n" +
			"  credentials: [{name: c, authenticates: someone}]\n" +
			"  dataStores: [{name: d, host: nohost, zone: nozone}]\n" +
			"  dataFlows: [{from: {service: s}, to: {dataStore: e}}]\n", []want{
			{6, "spec.hosts[0].zone", `no zone named "b" in spec.zones`},
			{6, "spec.hosts[0].runsAs", `no identity named "nobody" in spec.identities`},
			{9, "spec.services[0].hosts[1]", `no host named "ghost" in spec.hosts`},
			{9, "spec.services[0].runs[1]", `no artifact with digest or name "other" in spec.artifacts`},
			{9, "spec.services[0].credentials[0]", `no credential named "pw"`},
			{10, "spec.reaches[0].to.service", `no service named "t" in spec.services`},
			{11, "spec.credentials[0].authenticates", `no identity named "someone"`},
			{12, "spec.dataStores[0].host", `no host named "nohost"`},
			{12, "spec.dataStores[0].zone", `no zone named "nozone"`},
			{13, "spec.dataFlows[0].to.dataStore", `no dataStore named "e"`}}},
		{"ambiguous artifact name", head + "  artifacts:\n    - {digest: \"" + digest + "\", name: img}\n    - {digest: \"sha256:" + strings.Repeat("cd", 32) + "\", name: img}\n  services: [{name: s, runs: [img]}]\n", []want{
			{8, "spec.services[0].runs[0]", "ambiguous: artifacts spec.artifacts[0], spec.artifacts[1] are all named \"img\"; name one by its digest"}}},
		{"refs naming zero or several kinds", head + "  zones: [{name: a}]\n  hosts: [{name: h}]\n  services: [{name: s}]\n  reaches:\n" +
			"    - {from: {}, to: {zone: a}, port: 1}\n    - {from: {zone: a, host: h}, to: {zone: a}, port: 1}\n    - {from: {zone: a}, to: {credential: c}, port: 1}\n" +
			"  identities: [{name: i, access: [{mode: read}, {host: h, service: s}]}]\n  dataFlows: [{from: {host: h}, to: {service: s}}]\n", []want{
			{9, "spec.reaches[0].from", "required: name one of zone, host, service"},
			{10, "spec.reaches[1].from", "names zone and host at once; name exactly one of zone, host, service"},
			{11, "spec.reaches[2].to.credential", "cannot name a credential here; name one of zone, host, service, dataStore"},
			{12, "spec.identities[0].access[0]", "required: name one of dataStore, service, host, credential"},
			{12, "spec.identities[0].access[1]", "names host and service at once"},
			{13, "spec.dataFlows[0].from.host", "cannot name a host here; name one of service, dataStore"}}},
		{"aliases", head + "  zones: &z [{name: a}]\n  hosts: *z\n", []want{{6, "spec.hosts", "YAML aliases (*z) are not supported"}}},
		{"merge keys", head + "  zones:\n    - &base {name: a, trust: LOW}\n    - {<<: *base, name: b}\n", []want{{7, "spec.zones[1]", "YAML merge keys (<<) are not supported"}}},
		{"custom tags", head + "  zones: [{name: !secret a}]\n", []want{{5, "spec.zones[0].name", "want a string, got a value tagged !secret"}}},
		{"not UTF-8", head + "  zones: [{name: \"caf\xe9\"}]\n", []want{{5, "", "not UTF-8 text"}}},
		{"UTF-16", "\xfe\xff\x00a\x00:\x00 \x001\x00\n", []want{{1, "", "not UTF-8 text"}}},
		{"UTF-8 byte-order mark", "\xef\xbb\xbf" + head + "  zones: [{name: a}]\n", nil},
		{"non-string key", head + "  zones: [{name: a, 1: x}]\n", []want{{5, "spec.zones[0]", "want a field name, got integer 1"}}},
		{"empty list items", head + "  hosts: [{name: h, addresses: [\"\", 10.0.0.1]}]\n", []want{{5, "spec.hosts[0].addresses[0]", "empty items are not allowed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse("f.yaml", []byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if m != nil {
				t.Errorf("Parse returned a manifest along with an error")
			}
			got := problemsOf(t, err)
			if len(got) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i >= len(got) {
					break
				}
				p := got[i]
				if p.Line != w.line || p.Field != w.field || !strings.Contains(p.Message, w.msg) || p.File != "f.yaml" {
					t.Errorf("problem %d = %s\nwant line %d, field %q, message containing %q", i, p, w.line, w.field, w.msg)
				}
				if w.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("f.yaml:%d", w.line)) {
					t.Errorf("Error() lacks f.yaml:%d:\n%s", w.line, err)
				}
			}
		})
	}
}

func problemsOf(t *testing.T, err error) []manifest.Problem {
	t.Helper()
	var me *manifest.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want a *manifest.Error", err, err)
	}
	if len(me.Problems) == 0 {
		t.Fatal("an *Error without problems")
	}
	return me.Problems
}

func TestErrorFormat(t *testing.T) {
	_, err := manifest.Parse("twin.yaml", []byte(head+"  zones:\n    - {name: a, trust: high}\n"))
	want := `twin.yaml:6:24: spec.zones[0].trust: "high" is not one of UNTRUSTED, LOW, MEDIUM, HIGH (did you mean HIGH?)`
	if err == nil || err.Error() != want {
		t.Fatalf("Error() = %q\nwant      %q", err, want)
	}
	_, err = manifest.Parse("twin.yaml", nil)
	if err == nil || err.Error() != "twin.yaml: empty manifest: no YAML document" {
		t.Fatalf("Error() = %q", err)
	}
	_, err = manifest.Parse("twin.yaml", []byte("a: [\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "twin.yaml:2: YAML syntax: ") {
		t.Fatalf("Error() = %q", err)
	}
}

func TestParseCapsSizeAndProblems(t *testing.T) {
	big := head + "  zones:\n" + strings.Repeat("    - {name: a}\n", manifest.MaxSize/16)
	_, err := manifest.Parse("big.yaml", []byte(big))
	if p := problemsOf(t, err); len(p) != 1 || !strings.Contains(p[0].Message, "the limit is 4194304 (4 MiB)") {
		t.Fatalf("oversized file: %v", err)
	}
	// Thousands of duplicates: the report is capped, and says how many it left out.
	many := head + "  zones:\n" + strings.Repeat("    - {name: a}\n", 5000)
	_, err = manifest.Parse("many.yaml", []byte(many))
	p := problemsOf(t, err)
	if len(p) != 201 || !strings.Contains(p[200].Message, "and 4799 more problems") {
		t.Fatalf("got %d problems, last %v", len(p), p[len(p)-1])
	}
}

func TestExampleParsesAndItsBatchValidates(t *testing.T) {
	m := parseExample(t)
	if m.TwinName() != "city-traffic" || m.Source() != "manifest:traffic-signals" || m.File != "traffic-signals.yaml" {
		t.Errorf("twin %q, source %q, file %q", m.TwinName(), m.Source(), m.File)
	}
	if !strings.Contains(m.Metadata.Description, "Municipal traffic-signal platform") {
		t.Errorf("description %q", m.Metadata.Description)
	}
	b := m.Batch()
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	nodes, edges := count(b)
	t.Logf("example: %d nodes %v, %d edges %v", len(b.Nodes), nodes, len(b.Edges), edges)
	if len(m.Spec.Zones) != 5 || len(m.Spec.Services) < 20 || len(b.Nodes) != 104 || len(b.Edges) != 216 {
		t.Errorf("example holds %d zones, %d services, %d nodes, %d edges", len(m.Spec.Zones), len(m.Spec.Services), len(b.Nodes), len(b.Edges))
	}
	for _, typ := range graph.EdgeTypes() {
		if slices.Contains([]string{"CONTAINS", "DEPENDS_ON", "AFFECTS", "FOUND_IN", "IDENTIFIES", "ENABLES", "THREATENS"}, typ) {
			continue // not declared by manifests: SBOMs and scanners bring them
		}
		if edges[typ] == 0 {
			t.Errorf("the example declares no %s edge", typ)
		}
	}
	jewels := 0
	for _, n := range b.Nodes {
		if n.Props["crownJewel"] == true {
			jewels++
		}
	}
	if jewels < 5 {
		t.Errorf("only %d crown jewels", jewels)
	}
}

func count(b graph.Batch) (nodes, edges map[string]int) {
	nodes, edges = map[string]int{}, map[string]int{}
	for _, n := range b.Nodes {
		nodes[n.Label]++
	}
	for _, e := range b.Edges {
		edges[e.Type]++
	}
	return nodes, edges
}

func findNode(b graph.Batch, label, key string) (graph.NodeRow, bool) {
	for _, n := range b.Nodes {
		if n.Label == label && n.Key == key {
			return n, true
		}
	}
	return graph.NodeRow{}, false
}

func findEdges(b graph.Batch, typ string, from graph.NodeRef) []graph.EdgeRow {
	var out []graph.EdgeRow
	for _, e := range b.Edges {
		if e.Type == typ && e.From == from {
			out = append(out, e)
		}
	}
	return out
}

func TestBatchMapsFieldsOntoTheModel(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0f", 32)
	m, err := manifest.Parse("b.yaml", []byte(head+`  zones:
    - {name: internet, internet: true, trust: UNTRUSTED}
    - {name: app, description: apps, internet: false, crownJewel: false}
  hosts:
    - {name: h1, zone: app, os: Debian 12, type: VM, addresses: [10.0.0.1, "::1"], runsAs: root, credentials: [key], criticality: HIGH}
  artifacts:
    - {digest: "`+digest+`", name: web, type: IMAGE, uri: "reg/web:1"}
  services:
    - name: web
      hosts: [h1]
      runs: [web]
      endpoints: ["https://web/"]
      exposes:
        - {zone: internet, port: 443, endpoint: "https://web/"}
        - {zone: internet, port: 53, proto: udp}
      runsAs: root
      credentials: [key]
      crownJewel: true
    - {name: fn, zone: app, runs: ["`+digest+`"]}
  reaches:
    - {from: {zone: internet}, to: {service: web}, port: 443, description: public}
    - {from: {host: h1}, to: {dataStore: db}, port: 5432, proto: udp}
  identities:
    - {name: root, type: SERVICE, privileged: true, access: [{dataStore: db, mode: admin}, {credential: key}]}
  credentials:
    - {name: key, type: KEY, authenticates: root}
  dataStores:
    - {name: db, type: PostgreSQL, classification: RESTRICTED, host: h1, zone: app, credentials: [key]}
  dataFlows:
    - {from: {service: web}, to: {dataStore: db}, data: orders, protocol: TLS, encrypted: true, classification: CONFIDENTIAL}
    - {from: {dataStore: db}, to: {service: fn}}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := m.Batch()
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.TwinName() != "t" {
		t.Errorf("TwinName %q, want the manifest name", m.TwinName())
	}
	ref := func(label, key string) graph.NodeRef { return graph.NodeRef{Label: label, Key: key} }
	web := ref(graph.LabelService, "web")

	checkProps := func(label, key string, want map[string]any) {
		t.Helper()
		n, ok := findNode(b, label, key)
		if !ok {
			t.Fatalf("no %s %s in %+v", label, key, b.Nodes)
		}
		if fmt.Sprint(n.Props) != fmt.Sprint(want) {
			t.Errorf("%s %s props %v, want %v", label, key, n.Props, want)
		}
	}
	// Only what the manifest sets, explicit false included.
	checkProps(graph.LabelZone, "internet", map[string]any{"internet": true, "trust": "UNTRUSTED"})
	checkProps(graph.LabelZone, "app", map[string]any{"crownJewel": false, "description": "apps", "internet": false})
	checkProps(graph.LabelHost, "h1", map[string]any{"addresses": []string{"10.0.0.1", "::1"}, "criticality": "HIGH", "os": "Debian 12", "type": "VM"})
	checkProps(graph.LabelArtifact, digest, map[string]any{"name": "web", "type": "IMAGE", "uri": "reg/web:1"})
	checkProps(graph.LabelService, "web", map[string]any{"crownJewel": true, "endpoints": []string{"https://web/"}})
	checkProps(graph.LabelService, "fn", map[string]any{})
	checkProps(graph.LabelIdentity, "root", map[string]any{"privileged": true, "type": "SERVICE"})
	checkProps(graph.LabelCredential, "key", map[string]any{"type": "KEY"})
	checkProps(graph.LabelDataStore, "db", map[string]any{"classification": "RESTRICTED", "type": "PostgreSQL"})

	ex := findEdges(b, "EXPOSES", web)
	if len(ex) != 2 || ex[0].To != ref(graph.LabelZone, "internet") ||
		fmt.Sprint(ex[0].Props) != "map[endpoint:https://web/ port:443 proto:tcp]" || fmt.Sprint(ex[1].Props) != "map[port:53 proto:udp]" {
		t.Errorf("EXPOSES %+v", ex)
	}
	// An artifact named by name and one named by digest both resolve to the digest.
	for _, svc := range []string{"web", "fn"} {
		runs := findEdges(b, "RUNS", ref(graph.LabelService, svc))
		if len(runs) != 1 || runs[0].To != ref(graph.LabelArtifact, digest) {
			t.Errorf("%s RUNS %+v", svc, runs)
		}
	}
	type e struct {
		typ      string
		from, to graph.NodeRef
		props    string
	}
	for _, w := range []e{
		{"IN_ZONE", ref("Host", "h1"), ref("Zone", "app"), "map[]"},
		{"RUNS_AS", ref("Host", "h1"), ref("Identity", "root"), "map[]"},
		{"STORES", ref("Host", "h1"), ref("Credential", "key"), "map[]"},
		{"DEPLOYED_ON", web, ref("Host", "h1"), "map[]"},
		{"IN_ZONE", ref("Service", "fn"), ref("Zone", "app"), "map[]"},
		{"RUNS_AS", web, ref("Identity", "root"), "map[]"},
		{"STORES", web, ref("Credential", "key"), "map[]"},
		{"REACHES", ref("Zone", "internet"), web, "map[description:public port:443 proto:tcp]"},
		{"REACHES", ref("Host", "h1"), ref("DataStore", "db"), "map[port:5432 proto:udp]"},
		{"HAS_ACCESS", ref("Identity", "root"), ref("DataStore", "db"), "map[mode:admin]"},
		{"HAS_ACCESS", ref("Identity", "root"), ref("Credential", "key"), "map[]"},
		{"AUTHENTICATES", ref("Credential", "key"), ref("Identity", "root"), "map[]"},
		{"DEPLOYED_ON", ref("DataStore", "db"), ref("Host", "h1"), "map[]"},
		{"IN_ZONE", ref("DataStore", "db"), ref("Zone", "app"), "map[]"},
		{"STORES", ref("DataStore", "db"), ref("Credential", "key"), "map[]"},
		{"FLOWS_TO", web, ref("DataStore", "db"), "map[classification:CONFIDENTIAL data:orders encrypted:true protocol:TLS]"},
		{"FLOWS_TO", ref("DataStore", "db"), ref("Service", "fn"), "map[]"},
	} {
		found := false
		for _, got := range findEdges(b, w.typ, w.from) {
			if got.To == w.to && fmt.Sprint(got.Props) == w.props {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s %v → %v %s; have %+v", w.typ, w.from, w.to, w.props, findEdges(b, w.typ, w.from))
		}
	}
	if _, edges := count(b); len(b.Edges) != 21 || edges["EXPOSES"] != 2 || edges["RUNS"] != 2 {
		t.Errorf("%d edges: %v", len(b.Edges), edges)
	}
}

func TestValidateChecksManifestsBuiltInGo(t *testing.T) {
	m := &manifest.Manifest{APIVersion: manifest.APIVersion, Kind: manifest.Kind, File: "go",
		Metadata: manifest.Metadata{Name: "x"},
		Spec: manifest.Spec{
			Zones:    []manifest.Zone{{Name: "a"}},
			Services: []manifest.Service{{Name: "s", Hosts: []string{"nope"}, Exposes: []manifest.Exposure{{Zone: "a", Port: 0}}}},
		}}
	err := m.Validate()
	var me *manifest.Error
	if !errors.As(err, &me) || len(me.Problems) != 2 ||
		me.Problems[0].Field != "spec.services[0].hosts[0]" || me.Problems[1].Field != "spec.services[0].exposes[0].port" {
		t.Fatalf("Validate = %v", err)
	}
	if me.Problems[0].Line != 0 || !strings.HasPrefix(err.Error(), "go: spec.services[0].hosts[0]: ") {
		t.Errorf("problems of a Go-built manifest have no position: %v", err)
	}
	if err := (*manifest.Manifest)(nil).Validate(); err == nil {
		t.Error("nil manifest validates")
	}
	m.Spec.Services[0].Hosts = nil
	m.Spec.Services[0].Exposes[0].Port = 8080
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}
