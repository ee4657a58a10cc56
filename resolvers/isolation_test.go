package resolvers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

// Schema introspection, shared by the isolation and injection tests: they build operations for
// every field the schema has, so that fields added later are covered without editing the tests.

const introspectionQuery = `{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { name kind
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } }
    enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

// introType is a type reference: NON_NULL and LIST wrap a named type.
type introType struct {
	Kind   string
	Name   string
	OfType *introType
}

// named is the named type inside the wrappers.
func (t introType) named() introType {
	for t.OfType != nil && (t.Kind == "NON_NULL" || t.Kind == "LIST") {
		t = *t.OfType
	}
	return t
}

// String is the type as written in GraphQL, for variable declarations.
func (t introType) String() string {
	switch t.Kind {
	case "NON_NULL":
		return t.OfType.String() + "!"
	case "LIST":
		return "[" + t.OfType.String() + "]"
	}
	return t.Name
}

type introArg struct {
	Name string
	Type introType
}

type introField struct {
	Name string
	Args []introArg
	Type introType
}

func (f introField) arg(name string) (introArg, bool) {
	for _, a := range f.Args {
		if a.Name == name {
			return a, true
		}
	}
	return introArg{}, false
}

type introFullType struct {
	Name        string
	Kind        string
	Fields      []introField
	InputFields []introArg
	EnumValues  []struct{ Name string }
}

type introSchema struct {
	types                 map[string]introFullType
	query, mutation, subs []introField
}

func introspect(t *testing.T, api *apitest.API, token string) *introSchema {
	t.Helper()
	var out struct {
		Schema struct {
			QueryType, MutationType, SubscriptionType struct{ Name string }
			Types                                     []introFullType
		} `json:"__schema"`
	}
	api.MustData(t, token, introspectionQuery, nil, &out)
	s := &introSchema{types: map[string]introFullType{}}
	for _, ty := range out.Schema.Types {
		s.types[ty.Name] = ty
	}
	s.query = s.types[out.Schema.QueryType.Name].Fields
	s.mutation = s.types[out.Schema.MutationType.Name].Fields
	s.subs = s.types[out.Schema.SubscriptionType.Name].Fields
	if len(s.query) == 0 || len(s.mutation) == 0 {
		t.Fatalf("introspection found no Query or Mutation fields: %+v", out.Schema.QueryType)
	}
	return s
}

// selection is a minimal valid selection for a field of type t: nothing for a leaf, else the
// first level's leaf fields that need no argument (just __typename when there are none).
func (s *introSchema) selection(t introType) string {
	n := t.named()
	if n.Kind == "SCALAR" || n.Kind == "ENUM" {
		return ""
	}
	var names []string
	for _, f := range s.types[n.Name].Fields {
		k := f.Type.named().Kind
		if k != "SCALAR" && k != "ENUM" {
			continue
		}
		required := false
		for _, a := range f.Args {
			required = required || a.Type.Kind == "NON_NULL"
		}
		if !required {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		names = []string{"__typename"}
	}
	return "{ " + strings.Join(names, " ") + " }"
}

// filler builds argument values from the schema. Leaves of type String or ID come from str,
// given the name of the field or input type that holds them and their own name.
type filler struct {
	s   *introSchema
	str func(parent, name string) any
	// all fills optional input objects, String and ID leaves and Maps too (to reach every
	// string); otherwise only what is required.
	all bool
	// omit, when set, leaves out the optional arguments it names.
	omit func(arg string) bool
}

// value returns a value of type t for position name in parent, or false to leave it out.
func (f filler) value(t introType, parent, name string, required bool) (any, bool) {
	switch t.Kind {
	case "NON_NULL":
		return f.value(*t.OfType, parent, name, true)
	case "LIST":
		if !required && !f.all {
			return nil, false
		}
		v, ok := f.value(*t.OfType, parent, name, required)
		if !ok {
			if !required {
				return nil, false
			}
			return []any{}, true
		}
		return []any{v}, true
	case "ENUM":
		if !required {
			return nil, false
		}
		return f.s.types[t.Name].EnumValues[0].Name, true
	case "INPUT_OBJECT":
		if !required && !f.all {
			return nil, false
		}
		obj := map[string]any{}
		for _, in := range f.s.types[t.Name].InputFields {
			if v, ok := f.value(in.Type, t.Name, in.Name, false); ok {
				obj[in.Name] = v
			}
		}
		return obj, true
	}
	switch t.Name {
	case "String", "ID":
		if !required && !f.all {
			return nil, false
		}
		return f.str(parent, name), true
	case "Map":
		if !required && !f.all {
			return nil, false
		}
		return map[string]any{"k": f.str(parent, name)}, true
	}
	if !required {
		return nil, false
	}
	switch t.Name {
	case "Int":
		return 1, true
	case "Float":
		return 0.5, true
	case "Boolean":
		return false, true
	case "Time":
		return "2024-01-01T00:00:00Z", true
	}
	return "x", true
}

// operation builds an operation calling field with every argument filler gives a value, passed
// as variables, and a minimal selection.
func (f filler) operation(kind string, field introField) (string, map[string]any) {
	var decls, args []string
	vars := map[string]any{}
	for i, a := range field.Args {
		if f.omit != nil && a.Type.Kind != "NON_NULL" && f.omit(a.Name) {
			continue
		}
		v, ok := f.value(a.Type, field.Name, a.Name, false)
		if !ok {
			continue
		}
		vn := fmt.Sprintf("v%d", i)
		decls = append(decls, "$"+vn+": "+a.Type.String())
		args = append(args, a.Name+": $"+vn)
		vars[vn] = v
	}
	doc := kind
	if len(decls) > 0 {
		doc += "(" + strings.Join(decls, ", ") + ")"
	}
	doc += " { " + field.Name
	if len(args) > 0 {
		doc += "(" + strings.Join(args, ", ") + ")"
	}
	return doc + " " + f.s.selection(field.Type) + " }", vars
}

// normalized is a response as JSON with the twin names replaced, to compare the answers for two
// twins.
func normalized(t *testing.T, r apitest.Response, names ...string) string {
	t.Helper()
	type e struct {
		Message string
		Code    any
		Path    []any
	}
	out := struct {
		Data   json.RawMessage
		Errors []e
	}{Data: r.Data}
	for _, x := range r.Errors {
		out.Errors = append(out.Errors, e{x.Message, x.Extensions["code"], x.Path})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, n := range names {
		s = strings.ReplaceAll(s, n, "<twin>")
	}
	return s
}

// buildTwin creates twin name with the world of api_test.go through token.
func buildTwin(t *testing.T, api *apitest.API, token, name string) {
	t.Helper()
	var out struct {
		Link struct{ EdgesCreated int }
	}
	api.MustData(t, token, buildWorld, map[string]any{"t": name}, &out)
	if out.Link.EdgesCreated != 15 {
		t.Fatalf("link created %d edges in %s, want 15", out.Link.EdgesCreated, name)
	}
}

// twoTwins is two twins built with the world, on one server.
type twoTwins struct {
	api    *apitest.API
	db     *graph.DB
	a, b   string
	ghost  string // a legal twin name that does not exist
	admin  string
	tA, tB string // read+write tokens for a and b only
}

func newTwoTwins(t *testing.T) *twoTwins {
	t.Helper()
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t)})
	w := &twoTwins{api: api, db: db, a: testenv.Twin(t, db), b: testenv.Twin(t, db), ghost: testenv.RandomName("t")}
	w.admin = api.MustToken(t, []auth.Scope{auth.ScopeAdmin}, "*")
	w.tA = api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, w.a)
	w.tB = api.MustToken(t, []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, w.b)
	buildTwin(t, api, w.tA, w.a)
	buildTwin(t, api, w.tB, w.b)
	return w
}

// knownKeys are argument values that exist in the world, so lookups of the world's twin find
// something. "@Label/key" stands for the id of that node in the twin asked.
var knownKeys = map[string]map[string]string{
	"blastRadius":         {"node": "@Service/portal"},
	"shortestAttackPaths": {"from": "@Zone/dmz", "to": "@Service/portal"},
	"component":           {"purl": "pkg:npm/qs@6.5.2"},
	"artifact":            {"digest": "sha256:aaa"},
	"service":             {"name": "portal"},
	"host":                {"name": "web-1"},
	"zone":                {"name": "dmz"},
	"vulnerability":       {"id": "CVE-2022-24999"},
	"search":              {"query": "p"},
}

// unsynthesisable are fields whose arguments the filler cannot make valid (assuranceImpact wants a
// node id of the twin, simulate exactly one change kind per change, forecast a service of the
// twin): on the caller's own twin they may answer with the code given, and the isolation half
// of the test (another twin looks missing) still runs.
var unsynthesisable = map[string]string{"simulate": "BAD_USER_INPUT", "assuranceImpact": "BAD_USER_INPUT", "forecast": "NOT_FOUND"}

// twinArg names the argument of a Query field that selects a twin: twin, or name for twin(name:).
func twinArg(f introField) (string, bool) {
	if _, ok := f.arg("twin"); ok {
		return "twin", true
	}
	if _, ok := f.arg("name"); ok && f.Name == "twin" {
		return "name", true
	}
	return "", false
}

// twinQuery is one Query field that takes a twin, for a twin.
func twinQuery(s *introSchema, f introField, twin string) (string, map[string]any) {
	ta, _ := twinArg(f)
	fl := filler{s: s, str: func(parent, name string) any {
		if parent == f.Name && name == ta {
			return twin
		}
		if v, ok := knownKeys[f.Name][name]; ok && parent == f.Name {
			if label, key, ok := strings.Cut(strings.TrimPrefix(v, "@"), "/"); ok && strings.HasPrefix(v, "@") {
				return graph.ID(label, twin, key)
			}
			return v
		}
		return "x"
	}}
	return fl.operation("query", f)
}

// snapshot is what admin sees of a twin, to prove that refused writes changed nothing.
func (w *twoTwins) snapshot(t *testing.T, twin string) string {
	t.Helper()
	r := w.api.Do(t, w.admin, `query($t: String!) {
  twin(name: $t) { name description stats { nodes edges byLabel { name count } byType { name count } } grants { grantee subgraphs } }
  service(twin: $t, name: "portal") { description endpoints criticality provenance { sources } }
  component(twin: $t, purl: "pkg:npm/qs@6.5.2") { name version provenance { sources } }
  zones(twin: $t) { nodes { name description } } }`, map[string]any{"t": twin})
	if r.Errors != nil || !strings.Contains(string(r.Data), `"nodes":13`) {
		t.Fatalf("snapshot of %s: %s %+v", twin, r.Data, r.Errors)
	}
	return string(r.Data)
}

// twinMutation is a write aimed at a twin: the token of the test must not get it through.
type twinMutation struct {
	name, query string
	vars        func(target, other string) map[string]any
}

// mutationsOn lists writes to target, built from the schema (every Mutation field taking a
// twin) and by hand (writes on the world's real nodes, manifests, grants, twin management).
func mutationsOn(s *introSchema) []twinMutation {
	var out []twinMutation
	for _, f := range s.mutation {
		if _, ok := f.arg("twin"); !ok {
			continue
		}
		out = append(out, twinMutation{name: "schema " + f.Name, vars: nil, query: f.Name})
	}
	manifest := func(twin string) string {
		return fmt.Sprintf("apiVersion: sectwin/v1\nkind: Twin\nmetadata:\n  name: intruder\n  twin: %s\nspec:\n  zones:\n    - {name: intruder, trust: LOW}\n", twin)
	}
	tv := func(target, _ string) map[string]any { return map[string]any{"t": target} }
	out = append(out,
		twinMutation{"upsert existing service", `mutation($t: String!) { upsertServices(twin: $t, input: [{name: "portal", description: "pwned", criticality: LOW}]) { nodesUpdated } }`, tv},
		twinMutation{"upsert new component", `mutation($t: String!) { upsertComponents(twin: $t, input: [{purl: "pkg:npm/evil@1.0.0"}]) { nodesCreated } }`, tv},
		twinMutation{"link real nodes", `mutation($t: String!) { link(twin: $t, edges: [{type: DEPENDS_ON, from: {type: COMPONENT, key: "pkg:npm/qs@6.5.2"}, to: {type: COMPONENT, key: "pkg:npm/app@1.0.0"}}]) { edgesCreated } }`, tv},
		twinMutation{"unlink real edge", `mutation($t: String!) { unlink(twin: $t, edges: [{type: DEPENDS_ON, from: {type: COMPONENT, key: "pkg:npm/app@1.0.0"}, to: {type: COMPONENT, key: "pkg:npm/express@4.17.1"}}]) { edgesDeleted } }`, tv},
		twinMutation{"delete real nodes", `mutation($t: String!) { deleteNodes(twin: $t, nodes: [{type: COMPONENT, key: "pkg:npm/qs@6.5.2"}, {type: SERVICE, key: "portal"}]) { nodesDeleted } }`, tv},
		twinMutation{"apply manifest", `mutation($m: String!) { applyManifest(input: {manifest: $m}) { nodesCreated } }`,
			func(target, _ string) map[string]any { return map[string]any{"m": manifest(target)} }},
		twinMutation{"apply manifest dry run", `mutation($m: String!) { applyManifest(input: {manifest: $m, dryRun: true}) { nodesCreated } }`,
			func(target, _ string) map[string]any { return map[string]any{"m": manifest(target)} }},
		twinMutation{"grant from it", `mutation($t: String!, $o: String!) { grantTwin(input: {owner: $t, grantee: $o, subgraphs: ["services", "hosts"]}) { owner } }`,
			func(target, other string) map[string]any { return map[string]any{"t": target, "o": other} }},
		twinMutation{"revoke its grant", `mutation($t: String!, $o: String!) { revokeGrant(owner: $t, grantee: $o) }`,
			func(target, other string) map[string]any { return map[string]any{"t": target, "o": other} }},
		twinMutation{"create it", `mutation($t: String!) { createTwin(input: {name: $t, description: "pwned"}) { name } }`, tv},
		twinMutation{"delete it", `mutation($t: String!) { deleteTwin(name: $t) }`, tv},
	)
	return out
}

// checkMutationsRefused runs every write on target with token, and on ghost, and wants them
// refused alike with NOT_FOUND or FORBIDDEN, and target unchanged.
func (w *twoTwins) checkMutationsRefused(t *testing.T, s *introSchema, token, target, other string) {
	t.Helper()
	before := w.snapshot(t, target)
	for _, m := range mutationsOn(s) {
		t.Run(m.name, func(t *testing.T) {
			run := func(twin string) apitest.Response {
				if m.vars == nil { // from the schema: every required argument filled in
					f := s.field(s.mutation, m.query)
					fl := filler{s: s, str: func(parent, name string) any {
						if parent == f.Name && name == "twin" {
							return twin
						}
						return "pkg:npm/qs@6.5.2"
					}}
					q, vars := fl.operation("mutation", f)
					return w.api.Do(t, token, q, vars)
				}
				return w.api.Do(t, token, m.query, m.vars(twin, other))
			}
			got, ghost := run(target), run(w.ghost)
			if c := got.Code(); c != "NOT_FOUND" && c != "FORBIDDEN" {
				t.Fatalf("write to %s was not refused: %s %+v", target, got.Data, got.Errors)
			}
			if g, n := normalized(t, got, target), normalized(t, ghost, w.ghost); g != n {
				t.Errorf("refusal differs from a missing twin's:\n got   %s\n ghost %s", g, n)
			}
		})
	}
	if after := w.snapshot(t, target); after != before {
		t.Errorf("refused writes changed %s:\nbefore %s\nafter  %s", target, before, after)
	}
}

func (s *introSchema) field(list []introField, name string) introField {
	for _, f := range list {
		if f.Name == name {
			return f
		}
	}
	panic("no field " + name)
}

// subscribeErr opens twinChanged(twin) and returns the error it gets.
func subscribeErr(t *testing.T, api *apitest.API, token, twin string) apitest.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := api.Subscribe(ctx, token, `subscription($t: String!) { twinChanged(twin: $t) { twin op } }`, map[string]any{"t": twin})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	r, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("twinChanged(%s): %v", twin, err)
	}
	return r
}

func TestTokenSeesOnlyItsTwins(t *testing.T) {
	w := newTwoTwins(t)
	s := introspect(t, w.api, w.admin)

	t.Run("every query taking a twin", func(t *testing.T) {
		n, hidden := 0, 0
		for _, f := range s.query {
			if _, ok := twinArg(f); !ok {
				continue
			}
			n++
			t.Run(f.Name, func(t *testing.T) {
				qA, vA := twinQuery(s, f, w.a)
				if r := w.api.Do(t, w.tA, qA, vA); r.Errors != nil && !(unsynthesisable[f.Name] != "" && r.Code() == unsynthesisable[f.Name]) {
					t.Fatalf("own twin: %+v\n%s", r.Errors, qA)
				}
				qB, vB := twinQuery(s, f, w.b)
				admin := w.api.Do(t, w.admin, qB, vB)
				if admin.Errors != nil && !(unsynthesisable[f.Name] != "" && admin.Code() == unsynthesisable[f.Name]) {
					t.Fatalf("admin on %s: %+v\n%s", w.b, admin.Errors, qB)
				}
				got := w.api.Do(t, w.tA, qB, vB)
				qG, vG := twinQuery(s, f, w.ghost)
				ghost := w.api.Do(t, w.tA, qG, vG)
				if c := ghost.Code(); c != "" && c != "NOT_FOUND" {
					t.Fatalf("missing twin gives %s: %+v", c, ghost.Errors)
				}
				if c := ghost.Code(); c == "" && !strings.Contains(string(ghost.Data), ":null") {
					t.Fatalf("missing twin gives data: %s", ghost.Data)
				}
				if g, m := normalized(t, got, w.b), normalized(t, ghost, w.ghost); g != m {
					t.Errorf("other twin answers unlike a missing one:\n other %s\n ghost %s\n admin %s", g, m, admin.Data)
				}
				if normalized(t, admin, w.b) != normalized(t, ghost, w.ghost) {
					hidden++ // admin sees something there that the token does not
				}
			})
		}
		t.Logf("%d query fields take a twin; on %d of them the other twin's data was hidden", n, hidden)
		if n < 15 || hidden < n/2 {
			t.Errorf("only %d query fields taking a twin (%d hiding data): introspection or fixture broken", n, hidden)
		}
	})

	t.Run("twins lists only its own", func(t *testing.T) {
		var out struct{ Twins []struct{ Name string } }
		w.api.MustData(t, w.tA, `{ twins { name } }`, nil, &out)
		if len(out.Twins) != 1 || out.Twins[0].Name != w.a {
			t.Errorf("twins: %+v, want only %s", out.Twins, w.a)
		}
		var v struct{ Viewer struct{ Twins []string } }
		w.api.MustData(t, w.tA, `{ viewer { twins } }`, nil, &v)
		if !slices.Equal(v.Viewer.Twins, []string{w.a}) {
			t.Errorf("viewer.twins %v", v.Viewer.Twins)
		}
	})

	t.Run("node ids of the other twin", func(t *testing.T) {
		var ids []string
		var all struct {
			Twin                                          struct{ ID string }
			Components, Artifacts, Services, Hosts, Zones struct{ Nodes []struct{ ID string } }
			Vulnerabilities                               struct{ Nodes []struct{ ID string } }
			DataStores                                    []struct{ ID string }
		}
		w.api.MustData(t, w.admin, `query($t: String!) { twin(name: $t) { id } components(twin: $t) { nodes { id } }
  artifacts(twin: $t) { nodes { id } } services(twin: $t) { nodes { id } } hosts(twin: $t) { nodes { id } }
  zones(twin: $t) { nodes { id } } vulnerabilities(twin: $t) { nodes { id } } dataStores(twin: $t) { id } }`, map[string]any{"t": w.b}, &all)
		ids = append(ids, all.Twin.ID)
		for _, c := range []struct{ Nodes []struct{ ID string } }{all.Components, all.Artifacts, all.Services, all.Hosts, all.Zones, all.Vulnerabilities} {
			for _, n := range c.Nodes {
				ids = append(ids, n.ID)
			}
		}
		for _, n := range all.DataStores {
			ids = append(ids, n.ID)
		}
		if len(ids) != 14 { // 13 nodes and the twin
			t.Fatalf("admin found %d ids in %s, want 14", len(ids), w.b)
		}
		ghostIDs := []string{graph.ID(graph.LabelTwin, w.ghost, w.ghost), graph.ID(graph.LabelComponent, w.ghost, "pkg:npm/qs@6.5.2")}
		for _, id := range append(slices.Clone(ids), ghostIDs...) {
			r := w.api.Do(t, w.tA, `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": id})
			if r.Errors != nil || string(r.Data) != `{"node":null}` {
				t.Errorf("node(%s): %s %+v, want null", id, r.Data, r.Errors)
			}
		}
		var adm struct{ Nodes []*struct{ ID string } }
		w.api.MustData(t, w.admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, &adm)
		for i, n := range adm.Nodes {
			if n == nil || n.ID != ids[i] {
				t.Fatalf("admin nodes(ids)[%d] = %+v, want %s", i, n, ids[i])
			}
		}
		r := w.api.Do(t, w.tA, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
		if r.Errors != nil || string(r.Data) != `{"nodes":[`+strings.Repeat("null,", len(ids)-1)+`null]}` {
			t.Errorf("nodes(ids): %s %+v, want all null", r.Data, r.Errors)
		}
	})

	t.Run("writes", func(t *testing.T) { w.checkMutationsRefused(t, s, w.tA, w.b, w.a) })

	t.Run("subscription", func(t *testing.T) {
		got, ghost := subscribeErr(t, w.api, w.tA, w.b), subscribeErr(t, w.api, w.tA, w.ghost)
		if got.Code() != "NOT_FOUND" {
			t.Fatalf("twinChanged(%s): %s %+v, want NOT_FOUND", w.b, got.Data, got.Errors)
		}
		if g, n := normalized(t, got, w.b), normalized(t, ghost, w.ghost); g != n {
			t.Errorf("twinChanged on the other twin fails unlike on a missing one:\n other %s\n ghost %s", g, n)
		}
	})
}

func TestFederationGrantIsReadOnlyAndScoped(t *testing.T) {
	w := newTwoTwins(t)
	s := introspect(t, w.api, w.admin)
	vars := map[string]any{"b": w.b, "g": w.ghost}

	var g struct {
		GrantTwin struct{ Owner, Grantee string }
	}
	w.api.MustData(t, w.tB, `mutation($b: String!, $a: String!) { grantTwin(input: {owner: $b, grantee: $a, subgraphs: ["vulnerabilities", "components"]}) { owner grantee subgraphs } }`,
		map[string]any{"b": w.b, "a": w.a}, &g)
	if g.GrantTwin.Owner != w.b || g.GrantTwin.Grantee != w.a {
		t.Fatalf("grant: %+v", g)
	}

	t.Run("shared subgraphs read", func(t *testing.T) {
		r := w.api.Do(t, w.tA, `query($b: String!) {
  components(twin: $b, orderBy: {field: PURL}) { totalCount nodes { purl twin } }
  vulnerability(twin: $b, id: "CVE-2022-24999") { vulnerabilityId affectedComponents { component { purl } } affectedServices { service { name } } findings { fingerprint } threats { techniqueId } }
  component(twin: $b, purl: "pkg:npm/qs@6.5.2") { purl vulnerabilities { fixedVersion vulnerability { vulnerabilityId } } artifacts { digest } dependents(depth: 2) { component { purl } } }
  vulnerabilities(twin: $b) { totalCount }
  search(twin: $b, query: "p") { __typename }
  crownJewels(twin: $b) { __typename }
  service(twin: $b, name: "portal") { name }
  artifact(twin: $b, digest: "sha256:aaa") { digest } }`, vars)
		if r.Errors != nil {
			t.Fatal(r.Errors)
		}
		jsonEq(t, r.Data, fmt.Sprintf(`{
 "components":{"totalCount":3,"nodes":[{"purl":"pkg:npm/app@1.0.0","twin":%[1]q},{"purl":"pkg:npm/express@4.17.1","twin":%[1]q},{"purl":"pkg:npm/qs@6.5.2","twin":%[1]q}]},
 "vulnerability":{"vulnerabilityId":"CVE-2022-24999","affectedComponents":[{"component":{"purl":"pkg:npm/qs@6.5.2"}}],"affectedServices":[],"findings":[],"threats":[]},
 "component":{"purl":"pkg:npm/qs@6.5.2","vulnerabilities":[{"fixedVersion":"6.5.3","vulnerability":{"vulnerabilityId":"CVE-2022-24999"}}],"artifacts":[],
   "dependents":[{"component":{"purl":"pkg:npm/express@4.17.1"}},{"component":{"purl":"pkg:npm/app@1.0.0"}}]},
 "vulnerabilities":{"totalCount":1},
 "search":[{"__typename":"Component"},{"__typename":"Component"},{"__typename":"Component"}],
 "crownJewels":[],
 "service":null,
 "artifact":null}`, w.b))
	})

	t.Run("unshared subgraphs look missing", func(t *testing.T) {
		for _, q := range []string{
			`query($t: String!) { services(twin: $t) { totalCount } }`,
			`query($t: String!) { hosts(twin: $t) { totalCount } }`,
			`query($t: String!) { zones(twin: $t) { totalCount } }`,
			`query($t: String!) { artifacts(twin: $t) { totalCount } }`,
			`query($t: String!) { dataStores(twin: $t) { name } }`,
			`query($t: String!) { findings(twin: $t) { totalCount } }`,
		} {
			got := w.api.Do(t, w.tA, q, map[string]any{"t": w.b})
			ghost := w.api.Do(t, w.tA, q, map[string]any{"t": w.ghost})
			if got.Code() != "NOT_FOUND" {
				t.Errorf("%s: %s %+v, want NOT_FOUND", q, got.Data, got.Errors)
			}
			if g, n := normalized(t, got, w.b), normalized(t, ghost, w.ghost); g != n {
				t.Errorf("%s:\n shared %s\n ghost  %s", q, g, n)
			}
		}
		var ids struct {
			Service struct{ ID string }
			Zone    struct{ ID string }
		}
		w.api.MustData(t, w.admin, `query($b: String!) { service(twin: $b, name: "portal") { id } zone(twin: $b, name: "dmz") { id } }`, vars, &ids)
		r := w.api.Do(t, w.tA, `query($s: ID!, $z: ID!) { s: node(id: $s) { id } z: node(id: $z) { id } }`, map[string]any{"s": ids.Service.ID, "z": ids.Zone.ID})
		if r.Errors != nil || string(r.Data) != `{"s":null,"z":null}` {
			t.Errorf("node() of unshared nodes: %s %+v", r.Data, r.Errors)
		}
	})

	t.Run("twin shows shared access", func(t *testing.T) {
		r := w.api.Do(t, w.tA, `query($b: String!) { twin(name: $b) { name access subgraphs grants { grantee }
  stats { nodes edges byLabel { name count } byType { name count } } } }`, vars)
		if r.Errors != nil {
			t.Fatal(r.Errors)
		}
		jsonEq(t, r.Data, fmt.Sprintf(`{"twin":{"name":%q,"access":"SHARED","subgraphs":["components","vulnerabilities"],"grants":[],
  "stats":{"nodes":4,"edges":0,"byLabel":[{"name":"Component","count":3},{"name":"Vulnerability","count":1}],"byType":[]}}}`, w.b))
		var tw struct {
			Twins []struct{ Name, Access string }
		}
		w.api.MustData(t, w.tA, `{ twins { name access } }`, nil, &tw)
		want := []struct{ Name, Access string }{{w.a, "FULL"}, {w.b, "SHARED"}}
		if w.b < w.a {
			want[0], want[1] = want[1], want[0]
		}
		if !reflect.DeepEqual(tw.Twins, want) {
			t.Errorf("twins: %+v, want %+v", tw.Twins, want)
		}
	})

	t.Run("writes", func(t *testing.T) { w.checkMutationsRefused(t, s, w.tA, w.b, w.a) })

	t.Run("revoke", func(t *testing.T) {
		var rv struct{ RevokeGrant bool }
		w.api.MustData(t, w.tB, `mutation($b: String!, $a: String!) { revokeGrant(owner: $b, grantee: $a) }`, map[string]any{"b": w.b, "a": w.a}, &rv)
		if !rv.RevokeGrant {
			t.Fatal("revokeGrant returned false")
		}
		q := `query($t: String!) { components(twin: $t) { totalCount } }`
		got, ghost := w.api.Do(t, w.tA, q, map[string]any{"t": w.b}), w.api.Do(t, w.tA, q, map[string]any{"t": w.ghost})
		if got.Code() != "NOT_FOUND" || normalized(t, got, w.b) != normalized(t, ghost, w.ghost) {
			t.Errorf("after revoke: %s %+v, want as for a missing twin", got.Data, got.Errors)
		}
		r := w.api.Do(t, w.tA, `query($t: String!) { twin(name: $t) { name } vulnerability(twin: $t, id: "CVE-2022-24999") { id } }`, map[string]any{"t": w.b})
		if r.Errors != nil || string(r.Data) != `{"twin":null,"vulnerability":null}` {
			t.Errorf("after revoke: %s %+v", r.Data, r.Errors)
		}
		var tw struct{ Twins []struct{ Name string } }
		w.api.MustData(t, w.tA, `{ twins { name } }`, nil, &tw)
		if len(tw.Twins) != 1 || tw.Twins[0].Name != w.a {
			t.Errorf("twins after revoke: %+v", tw.Twins)
		}
	})
}
