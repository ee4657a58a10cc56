package resolvers_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// world is a small twin built through the API: two zones, a host, a service running an image
// with three components, one vulnerable.
type world struct {
	api   *apitest.API
	twin  string
	admin string // admin token
	rw    string // read-write token for twin only
}

const buildWorld = `mutation($t: String!) {
  createTwin(input: {name: $t, description: "test"}) { name }
  upsertZones(twin: $t, input: [{name: "internet", internet: true, trust: "UNTRUSTED"}, {name: "dmz", trust: "LOW"}, {name: "core", trust: "HIGH"}]) { nodesCreated }
  upsertHosts(twin: $t, input: [{name: "web-1", os: "debian"}, {name: "db-1", criticality: CRITICAL}]) { nodesCreated }
  upsertArtifacts(twin: $t, input: [{digest: "sha256:aaa", name: "portal", type: "IMAGE"}]) { nodesCreated }
  upsertServices(twin: $t, input: [{name: "portal", endpoints: ["https://portal:443"], criticality: HIGH}, {name: "db", crownJewel: true, criticality: CRITICAL}]) { nodesCreated }
  upsertDataStores(twin: $t, input: [{name: "records", classification: "RESTRICTED", crownJewel: true}]) { nodesCreated }
  upsertComponents(twin: $t, input: [
    {purl: "pkg:npm/app@1.0.0", name: "app", version: "1.0.0"},
    {purl: "pkg:npm/express@4.17.1", name: "express", version: "4.17.1"},
    {purl: "pkg:npm/qs@6.5.2", name: "qs", version: "6.5.2", licenses: ["BSD-3-Clause"]}]) { nodesCreated }
  upsertVulnerabilities(twin: $t, input: [{vulnerabilityId: "CVE-2022-24999", severity: HIGH, cvssScore: 7.5, epss: 0.02, kev: false, aliases: ["GHSA-hrpp-h998-j3pp"]}]) { nodesCreated }
  link(twin: $t, edges: [
    {type: IN_ZONE, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}},
    {type: IN_ZONE, from: {type: HOST, key: "db-1"}, to: {type: ZONE, key: "core"}},
    {type: DEPLOYED_ON, from: {type: SERVICE, key: "portal"}, to: {type: HOST, key: "web-1"}},
    {type: DEPLOYED_ON, from: {type: SERVICE, key: "db"}, to: {type: HOST, key: "db-1"}},
    {type: DEPLOYED_ON, from: {type: DATA_STORE, key: "records"}, to: {type: HOST, key: "db-1"}},
    {type: RUNS, from: {type: SERVICE, key: "portal"}, to: {type: ARTIFACT, key: "sha256:aaa"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:aaa"}, to: {type: COMPONENT, key: "pkg:npm/app@1.0.0"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:aaa"}, to: {type: COMPONENT, key: "pkg:npm/express@4.17.1"}},
    {type: CONTAINS, from: {type: ARTIFACT, key: "sha256:aaa"}, to: {type: COMPONENT, key: "pkg:npm/qs@6.5.2"}},
    {type: DEPENDS_ON, from: {type: COMPONENT, key: "pkg:npm/app@1.0.0"}, to: {type: COMPONENT, key: "pkg:npm/express@4.17.1"}, properties: {scope: "runtime", direct: true}},
    {type: DEPENDS_ON, from: {type: COMPONENT, key: "pkg:npm/express@4.17.1"}, to: {type: COMPONENT, key: "pkg:npm/qs@6.5.2"}, properties: {scope: "runtime", direct: false}},
    {type: AFFECTS, from: {type: VULNERABILITY, key: "CVE-2022-24999"}, to: {type: COMPONENT, key: "pkg:npm/qs@6.5.2"}, properties: {versionRange: "<6.5.3", fixedVersion: "6.5.3"}},
    {type: EXPOSES, from: {type: SERVICE, key: "portal"}, to: {type: ZONE, key: "internet"}, properties: {port: 443, proto: "tcp"}},
    {type: REACHES, from: {type: ZONE, key: "dmz"}, to: {type: ZONE, key: "core"}, properties: {port: 5432, proto: "tcp"}},
    {type: FLOWS_TO, from: {type: SERVICE, key: "portal"}, to: {type: DATA_STORE, key: "records"}, properties: {data: "citizen records", encrypted: true}}
  ]) { edgesCreated }
}`

func newWorld(t *testing.T) *world {
	t.Helper()
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	w := &world{api: api, twin: testenv.Twin(t, db)}
	w.admin = api.MustToken(t, []auth.Scope{auth.ScopeAdmin}, "*")
	w.rw = api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, w.twin)
	var out struct {
		Link struct{ EdgesCreated int }
	}
	api.MustData(t, w.rw, buildWorld, map[string]any{"t": w.twin}, &out)
	if out.Link.EdgesCreated != 15 {
		t.Fatalf("link created %d edges, want 15", out.Link.EdgesCreated)
	}
	return w
}

func jsonEq(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("got  %s\nwant %s", gb, wb)
	}
}

func TestIntrospectionShowsTheContract(t *testing.T) {
	w := newWorld(t)
	var out struct {
		Schema struct {
			Types []struct {
				Name   string
				Fields []struct {
					Name string
					Type struct {
						Name   string
						OfType struct{ Name string }
					}
				}
			}
		} `json:"__schema"`
	}
	w.api.MustData(t, w.rw, `{ __schema { types { name fields { name type { name ofType { name } } } } } }`, nil, &out)
	fields := map[string][]string{}
	for _, ty := range out.Schema.Types {
		for _, f := range ty.Fields {
			fields[ty.Name] = append(fields[ty.Name], f.Name)
		}
		if ty.Name == "" {
			continue
		}
	}
	for _, want := range []struct{ typ, field string }{
		{"Twin", "name"}, {"Component", "purl"}, {"Vulnerability", "vulnerabilityId"}, {"Service", "blastRadius"},
		{"Host", "zones"}, {"Zone", "reaches"}, {"ComponentConnection", "pageInfo"}, {"PageInfo", "hasNextPage"},
		{"PageInfo", "endCursor"}, {"Query", "node"}, {"Subscription", "twinChanged"}, {"Component", "dependencies"},
		{"Component", "dependents"}, {"Vulnerability", "affectedComponents"}, {"Vulnerability", "affectedServices"},
		{"Query", "search"}, {"Mutation", "applyManifest"},
	} {
		if !slices.Contains(fields[want.typ], want.field) {
			t.Errorf("introspection: %s.%s missing (have %v)", want.typ, want.field, fields[want.typ])
		}
	}
}

func TestReadsTraversalsAndLookups(t *testing.T) {
	w := newWorld(t)
	vars := map[string]any{"t": w.twin}
	t.Run("component with dependencies and dependents", func(t *testing.T) {
		r := w.api.Do(t, w.rw, `query($t: String!) { component(twin: $t, purl: "pkg:npm/app@1.0.0") {
  name version dependencies(depth: 3) { depth parent scope direct component { purl } } } 
  qs: component(twin: $t, purl: "pkg:npm/qs@6.5.2") { licenses dependents(depth: 2) { depth component { purl } }
    vulnerabilities { fixedVersion vulnerability { vulnerabilityId } } artifacts { digest } } }`, vars)
		if r.Errors != nil {
			t.Fatal(r.Errors)
		}
		jsonEq(t, r.Data, `{"component":{"name":"app","version":"1.0.0","dependencies":[
  {"depth":1,"parent":"pkg:npm/app@1.0.0","scope":"runtime","direct":true,"component":{"purl":"pkg:npm/express@4.17.1"}},
  {"depth":2,"parent":"pkg:npm/express@4.17.1","scope":"runtime","direct":false,"component":{"purl":"pkg:npm/qs@6.5.2"}}]},
 "qs":{"licenses":["BSD-3-Clause"],"dependents":[{"depth":1,"component":{"purl":"pkg:npm/express@4.17.1"}},{"depth":2,"component":{"purl":"pkg:npm/app@1.0.0"}}],
  "vulnerabilities":[{"fixedVersion":"6.5.3","vulnerability":{"vulnerabilityId":"CVE-2022-24999"}}],"artifacts":[{"digest":"sha256:aaa"}]}}`)
	})
	t.Run("affected services and exposure", func(t *testing.T) {
		r := w.api.Do(t, w.rw, `query($t: String!) { vulnerability(twin: $t, id: "CVE-2022-24999") { severity cvssScore epss kev
  affectedComponents { versionRange component { purl } }
  affectedServices { service { name } components { purl } artifacts internetExposed exposures { zone internet port proto } } } }`, vars)
		if r.Errors != nil {
			t.Fatal(r.Errors)
		}
		jsonEq(t, r.Data, `{"vulnerability":{"severity":"HIGH","cvssScore":7.5,"epss":0.02,"kev":false,
  "affectedComponents":[{"versionRange":"<6.5.3","component":{"purl":"pkg:npm/qs@6.5.2"}}],
  "affectedServices":[{"service":{"name":"portal"},"components":[{"purl":"pkg:npm/qs@6.5.2"}],"artifacts":["sha256:aaa"],"internetExposed":true,
    "exposures":[{"zone":"internet","internet":true,"port":443,"proto":"tcp"}]}]}}`)
	})
	t.Run("service topology and blast radius", func(t *testing.T) {
		r := w.api.Do(t, w.rw, `query($t: String!) { service(twin: $t, name: "portal") { hosts { name } zones { name } internetExposed
  vulnerabilities { vulnerabilityId } flows { data encrypted to { ... on DataStore { name } } }
  blastRadius(depth: 4) { depth via node { __typename ... on Host { name } ... on Zone { name } ... on Service { name } ... on DataStore { name } } } } }`, vars)
		if r.Errors != nil {
			t.Fatal(r.Errors)
		}
		var out struct {
			Service struct {
				Hosts, Zones []struct{ Name string }
				BlastRadius  []struct {
					Depth int
					Via   []string
					Node  struct{ Typename, Name string } `json:"node"`
				}
			}
		}
		if err := r.Decode(&out); err != nil {
			t.Fatal(err)
		}
		reached := map[string]int{}
		for _, b := range out.Service.BlastRadius {
			reached[b.Node.Name] = b.Depth
		}
		// portal runs on web-1 in dmz, and FLOWS_TO records, which runs on db-1 in core, where
		// db runs too; dmz REACHES core.
		want := map[string]int{"web-1": 1, "records": 1, "dmz": 2, "db-1": 2, "core": 3, "db": 3}
		for name, d := range want {
			if reached[name] != d {
				t.Errorf("blast radius: %s at depth %d, want %d (all: %v)", name, reached[name], d, reached)
			}
		}
		if _, ok := reached["internet"]; ok {
			t.Errorf("blast radius reached the internet zone through an EXPOSES edge: %v", reached)
		}
		jsonEq(t, mustJSON(out.Service.Zones), `[{"Name":"dmz"}]`)
	})
	t.Run("connection pages, filters and node ids", func(t *testing.T) {
		var seen []string
		after := any(nil)
		for range 5 {
			var out struct {
				Components struct {
					TotalCount int
					PageInfo   struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct {
						Cursor string
						Node   struct{ ID, Purl string }
					}
				}
			}
			w.api.MustData(t, w.rw, `query($t: String!, $a: String) { components(twin: $t, first: 2, after: $a, orderBy: {field: PURL, direction: DESC}) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id purl } } } }`, map[string]any{"t": w.twin, "a": after}, &out)
			if out.Components.TotalCount != 3 {
				t.Fatalf("totalCount %d", out.Components.TotalCount)
			}
			for _, e := range out.Components.Edges {
				seen = append(seen, e.Node.Purl)
				var n struct {
					Node struct{ Purl string }
				}
				w.api.MustData(t, w.rw, `query($id: ID!) { node(id: $id) { ... on Component { purl } } }`, map[string]any{"id": e.Node.ID}, &n)
				if n.Node.Purl != e.Node.Purl {
					t.Errorf("node(id) of %s gave %q", e.Node.Purl, n.Node.Purl)
				}
			}
			if !out.Components.PageInfo.HasNextPage {
				break
			}
			after = out.Components.PageInfo.EndCursor
		}
		want := []string{"pkg:npm/qs@6.5.2", "pkg:npm/express@4.17.1", "pkg:npm/app@1.0.0"}
		if !slices.Equal(seen, want) {
			t.Errorf("pages gave %v, want %v", seen, want)
		}
		var f struct {
			Services   struct{ Nodes []struct{ Name string } }
			Vulnerable struct{ Nodes []struct{ Purl string } }
			Hosts      struct{ Nodes []struct{ Name string } }
		}
		w.api.MustData(t, w.rw, `query($t: String!) { services(twin: $t, where: {internetExposed: true}) { nodes { name } }
  vulnerable: components(twin: $t, where: {vulnerable: true}) { nodes { purl } }
  hosts(twin: $t, where: {zone: "core"}) { nodes { name } } }`, vars, &f)
		if len(f.Services.Nodes) != 1 || f.Services.Nodes[0].Name != "portal" || len(f.Vulnerable.Nodes) != 1 || len(f.Hosts.Nodes) != 1 || f.Hosts.Nodes[0].Name != "db-1" {
			t.Errorf("filters: %+v", f)
		}
	})
	t.Run("projections keep every selected field", func(t *testing.T) {
		// Reads return only the properties a query selects; fragments, aliases and nested
		// resolvers must still get everything they need.
		r := w.api.Do(t, w.rw, `fragment C on Component { version licenses provenance { sources } }
query($t: String!) {
  components(twin: $t, where: {purlPrefix: "pkg:npm/qs"}) { edges { node { ...C id } } nodes { ... on Node { id } name } }
  component(twin: $t, purl: "pkg:npm/express@4.17.1") { ...C deps: dependencies(depth: 2) { component { ...C n: name vulnerabilities { fixedVersion } } } }
  vulnerability(twin: $t, id: "CVE-2022-24999") { aliases affectedServices { service { ... on Service { endpoints criticality } } components { ...C } } }
}`, vars)
		if r.Errors != nil {
			t.Fatal(r.Errors)
		}
		for _, want := range []string{`"version":"6.5.2"`, `"licenses":["BSD-3-Clause"]`, `"name":"qs"`, `"version":"4.17.1"`, `"n":"qs"`,
			`"fixedVersion":"6.5.3"`, `"aliases":["GHSA-hrpp-h998-j3pp"]`, `"endpoints":["https://portal:443"]`, `"criticality":"HIGH"`, `"sources":["graphql:`} {
			if !strings.Contains(string(r.Data), want) {
				t.Errorf("response lacks %s:\n%s", want, r.Data)
			}
		}
	})
	t.Run("search", func(t *testing.T) {
		var out struct {
			Search []struct {
				Typename string `json:"__typename"`
				Purl     string
				Name     string
			}
		}
		w.api.MustData(t, w.rw, `query($t: String!) { search(twin: $t, query: "pkg:npm/ex") { __typename ... on Component { purl } }
}`, vars, &out)
		if len(out.Search) != 1 || out.Search[0].Purl != "pkg:npm/express@4.17.1" {
			t.Errorf("search: %+v", out.Search)
		}
		w.api.MustData(t, w.rw, `query($t: String!) { search(twin: $t, query: "d") { __typename ... on Service { name } ... on Zone { name } ... on Host { name } } }`, vars, &out)
		var names []string
		for _, s := range out.Search {
			names = append(names, s.Typename+":"+s.Name)
		}
		if !slices.Equal(names, []string{"Host:db-1", "Service:db", "Zone:dmz"}) {
			t.Errorf("search d: %v", names)
		}
	})
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func TestBadInputGetsCodes(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name, query string
		code, msg   string
	}{
		{"first above max", `query($t: String!) { components(twin: $t, first: 501) { totalCount } }`, "BAD_USER_INPUT", "first must be between 0 and 500"},
		{"negative first", `query($t: String!) { zones(twin: $t, first: -1) { totalCount } }`, "BAD_USER_INPUT", "first must be"},
		{"depth out of range", `query($t: String!) { component(twin: $t, purl: "pkg:npm/app@1.0.0") { dependencies(depth: 11) { depth } } }`, "BAD_USER_INPUT", "depth must be between 1 and 10"},
		{"bad cursor", `query($t: String!) { components(twin: $t, after: "nope") { totalCount } }`, "BAD_USER_INPUT", "malformed cursor"},
		{"bad node id", `{ node(id: "!!") { id } }`, "BAD_USER_INPUT", "malformed id"},
		{"unknown twin", `{ components(twin: "no-such-twin") { totalCount } }`, "NOT_FOUND", `no twin "no-such-twin" is visible`},
		{"missing endpoint", `mutation($t: String!) { link(twin: $t, edges: [{type: RUNS, from: {type: SERVICE, key: "portal"}, to: {type: ARTIFACT, key: "sha256:ghost"}}]) { edgesCreated } }`, "BAD_USER_INPUT", "Artifact sha256:ghost"},
		{"wrong pair", `mutation($t: String!) { link(twin: $t, edges: [{type: RUNS, from: {type: HOST, key: "web-1"}, to: {type: ZONE, key: "dmz"}}]) { edgesCreated } }`, "BAD_USER_INPUT", "RUNS cannot join Host to Zone"},
		{"reaches without port", `mutation($t: String!) { link(twin: $t, edges: [{type: REACHES, from: {type: ZONE, key: "dmz"}, to: {type: ZONE, key: "core"}}]) { edgesCreated } }`, "BAD_USER_INPUT", "port: required for REACHES"},
		{"edge property of wrong type", `mutation($t: String!) { link(twin: $t, edges: [{type: REACHES, from: {type: ZONE, key: "dmz"}, to: {type: ZONE, key: "core"}, properties: {port: "https", proto: "tcp"}}]) { edgesCreated } }`, "BAD_USER_INPUT", "want an integer"},
		{"empty key", `mutation($t: String!) { upsertServices(twin: $t, input: [{name: ""}]) { nodesCreated } }`, "BAD_USER_INPUT", "Service.name is required"},
		{"unknown input field", `mutation($t: String!) { upsertServices(twin: $t, input: [{name: "x", colour: "red"}]) { nodesCreated } }`, "GRAPHQL_VALIDATION_FAILED", "colour"},
		{"bad twin name", `mutation { createTwin(input: {name: "Bad Name"}) { name } }`, "BAD_USER_INPUT", "twin name"},
		{"too deep", `query($t: String!) { twin(name: $t) { grants { owner } } service(twin: $t, name: "portal") { hosts { services { hosts { services { hosts { services { hosts { services { hosts { services { hosts { name } } } } } } } } } } } } }`, "QUERY_TOO_COMPLEX", "depth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.api.Do(t, w.rw, tt.query, map[string]any{"t": w.twin})
			if r.Code() != tt.code || !strings.Contains(r.Errors[0].Message, tt.msg) {
				t.Fatalf("got %+v, want code %s with %q", r.Errors, tt.code, tt.msg)
			}
		})
	}
	// Nothing was written by the failed mutations.
	var out struct {
		Twin struct{ Stats struct{ Nodes, Edges int } }
	}
	w.api.MustData(t, w.rw, `query($t: String!) { twin(name: $t) { stats { nodes edges } } }`, map[string]any{"t": w.twin}, &out)
	if out.Twin.Stats.Nodes != 13 || out.Twin.Stats.Edges != 15 {
		t.Errorf("after bad input the twin holds %+v, want 13 nodes and 15 edges", out.Twin.Stats)
	}
}
