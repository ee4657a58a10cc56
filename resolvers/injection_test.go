package resolvers_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/apitest"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/testenv"
)

// injectionPayloads are strings that would change a query built by concatenation.
var injectionPayloads = []struct{ name, value string }{
	{"or-true", `' OR 1=1 //`},
	{"close-map-detach-delete", `"}) MATCH (n) DETACH DELETE n //`},
	{"close-call-detach-delete", `x') DETACH DELETE n RETURN 1 //`},
	{"parameter-name", `$twin`},
	{"map-literal", `{twin: 'other'}`},
	{"backticked-label", "`Component`"},
	{"10000-chars", strings.Repeat("a", 10000)},
	{"nul", "\x00"},
	{"path-traversal", `../../etc/passwd`},
}

// leakWords are what error messages must not say: Neo4j's and Cypher's own words.
var leakWords = []string{"Neo.ClientError", "Neo.DatabaseError", "Neo.TransientError", "neo4j", "Neo4j", "Cypher", "cypher",
	"MATCH", "MERGE", "Invalid input", "SyntaxError", "Variable `", "line 1, column", "Unknown function", "Expected"}

// withoutPayload removes the payload, as given and as quoted, from an error message: echoing the
// caller's input is no leak.
func withoutPayload(msg, payload string) string {
	q := strconv.Quote(payload)
	for _, s := range []string{q, q[1 : len(q)-1], strconv.QuoteToASCII(payload), payload} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "<payload>")
		}
	}
	return msg
}

// twinPosition reports whether a String argument or input field names a twin: twin and owner,
// and the names of Query.twin, createTwin and deleteTwin.
func twinPosition(parent, name string) bool {
	switch name {
	case "twin", "owner":
		return true
	case "name":
		return parent == "twin" || parent == "deleteTwin" || parent == "CreateTwinInput"
	}
	return false
}

type argVariant struct {
	name string
	omit func(arg string) bool
}

// argVariants are the sets of optional arguments to give a field: all of them and, when
// several is set, none and each alone, so that one refused argument (a bad types: of search)
// does not keep the others from reaching the database.
func argVariants(f introField, several bool) []argVariant {
	out := []argVariant{{"all arguments", nil}}
	var optional []string
	for _, a := range f.Args {
		if a.Type.Kind != "NON_NULL" {
			optional = append(optional, a.Name)
		}
	}
	if !several || len(optional) == 0 {
		return out
	}
	out = append(out, argVariant{"required arguments", func(string) bool { return true }})
	if len(optional) == 1 {
		return out
	}
	for _, keep := range optional {
		out = append(out, argVariant{"required arguments and " + keep, func(a string) bool { return a != keep }})
	}
	return out
}

// twinCounts counts a twin's nodes and relationships straight from Neo4j.
func twinCounts(t *testing.T, db *graph.DB, twin string) (nodes, edges int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (n {twin: $t}) WITH count(n) AS nodes
OPTIONAL MATCH ({twin: $t})-[r]-() RETURN nodes, count(DISTINCT r) AS edges`, map[string]any{"t": twin})
		if err != nil {
			return nil, err
		}
		rec, err := res.Single(ctx)
		if err != nil {
			return nil, err
		}
		return rec.Values, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v := out.([]any)
	return v[0].(int64), v[1].(int64)
}

// foreignLabels lists the labels in Neo4j outside the model and sectwin's bookkeeping.
func foreignLabels(t *testing.T, db *graph.DB) []string {
	t.Helper()
	// Other packages' tests run beside this one on the same database, so every label sectwin
	// itself writes is allowed, wherever it is.
	allowed := append(graph.Labels(), "ApiToken", "SchemaMigration", "MigrationLock", "TwinGrant", "Report", "ReportSchedule", "ReportClaim", "AttackOverride",
		graph.LabelEdgeEvent, graph.LabelEdgeAggregate, graph.LabelAssuranceCase, graph.LabelGsnElement, graph.LabelStatusChange, graph.LabelScanRun, graph.LabelAttestation,
		graph.LabelAlert, graph.LabelObservedEndpoint, graph.LabelTelemetryCursor, graph.LabelAnomaly, "ResponseAction")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, `MATCH (n) UNWIND labels(n) AS l RETURN DISTINCT l`, nil)
		if err != nil {
			return nil, err
		}
		recs, err := res.Collect(ctx)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, r := range recs {
			if l := r.Values[0].(string); !slices.Contains(allowed, l) {
				out = append(out, l)
			}
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.([]string)
}

func TestCypherInjectionThroughEveryStringArgument(t *testing.T) {
	db := testenv.Migrated(t)
	api := apitest.Start(t, db, testenv.NATS(t), apitest.Options{Log: testenv.Logger(t).Level(zerolog.WarnLevel)})
	admin := api.MustToken(t, []auth.Scope{auth.ScopeAdmin}, "*")
	own, sentinel := testenv.Twin(t, db), testenv.Twin(t, db)
	buildTwin(t, api, admin, own)
	buildTwin(t, api, admin, sentinel)
	sentinelNodes, sentinelEdges := twinCounts(t, db, sentinel)
	if sentinelNodes != 14 || sentinelEdges != 15 { // 13 nodes and the Twin node
		t.Fatalf("sentinel twin holds %d nodes and %d edges, want 14 and 15", sentinelNodes, sentinelEdges)
	}
	s := introspect(t, api, admin)

	type target struct {
		kind  string
		field introField
	}
	var targets []target
	for _, f := range s.query {
		targets = append(targets, target{"query", f})
	}
	for _, f := range s.mutation {
		targets = append(targets, target{"mutation", f})
	}

	ops, args, accepted := 0, 0, 0
	codes := map[string]int{}
	fieldsSeen := map[string]bool{}
	for _, p := range injectionPayloads {
		for _, mode := range []string{"own twin", "payload everywhere"} {
			for _, tg := range targets {
				if tg.field.Name == "deleteTwin" && mode == "own twin" {
					continue // it would delete the twin, legitimately
				}
				for _, v := range argVariants(tg.field, mode == "own twin") {
					placed := 0
					fl := filler{s: s, all: true, omit: v.omit, str: func(parent, name string) any {
						if mode == "own twin" && twinPosition(parent, name) {
							return own
						}
						placed++
						return p.value
					}}
					q, vars := fl.operation(tg.kind, tg.field)
					r := api.Do(t, admin, q, vars)
					ops++
					args += placed
					fieldsSeen[tg.field.Name] = true
					where := fmt.Sprintf("%s %s with %s (%s, %s)", tg.kind, tg.field.Name, p.name, mode, v.name)
					if r.Status >= 500 {
						t.Errorf("%s: HTTP %d", where, r.Status)
					}
					if r.Errors == nil {
						accepted++
					}
					for _, e := range r.Errors {
						codes[fmt.Sprint(e.Extensions["code"])]++
						if e.Extensions["code"] == "INTERNAL" || e.Extensions["code"] == nil {
							t.Errorf("%s: %v error %q\n%s", where, e.Extensions["code"], e.Message, q)
						}
						msg := withoutPayload(e.Message, p.value)
						for _, w := range leakWords {
							if strings.Contains(msg, w) {
								t.Errorf("%s: message leaks %q: %s", where, w, msg)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d operations on %d Query and Mutation fields, %d string arguments given payloads, %d operations answered without error; errors by code: %v",
		ops, len(fieldsSeen), args, accepted, codes)
	if ops < 1000 || args < 2000 || len(fieldsSeen) < 40 {
		t.Errorf("only %d operations on %d fields with %d payload arguments: the schema walk broke", ops, len(fieldsSeen), args)
	}
	if accepted < 100 {
		t.Errorf("only %d operations succeeded: payloads did not reach the database", accepted)
	}

	t.Run("payloads stored verbatim", func(t *testing.T) {
		for _, p := range injectionPayloads {
			r := api.Do(t, admin, `query($t: String!, $k: String!) { service(twin: $t, name: $k) { name description endpoints } }`, map[string]any{"t": own, "k": p.value})
			if len(p.value) > 2048 { // longer than a key may be: refused, not stored
				if string(r.Data) != `{"service":null}` {
					t.Errorf("%s: %s %+v", p.name, r.Data, r.Errors)
				}
				continue
			}
			var out struct {
				Service *struct {
					Name, Description string
					Endpoints         []string
				}
			}
			if err := r.Decode(&out); err != nil || r.Errors != nil || out.Service == nil {
				t.Fatalf("%s: service named with the payload: %s %+v", p.name, r.Data, r.Errors)
			}
			if out.Service.Name != p.value || out.Service.Description != p.value || !slices.Equal(out.Service.Endpoints, []string{p.value}) {
				t.Errorf("%s: stored %+v", p.name, out.Service)
			}
		}
	})

	t.Run("sentinel twin untouched", func(t *testing.T) {
		if n, e := twinCounts(t, db, sentinel); n != sentinelNodes || e != sentinelEdges {
			t.Errorf("sentinel twin now holds %d nodes and %d edges, want %d and %d", n, e, sentinelNodes, sentinelEdges)
		}
	})

	t.Run("no labels outside the model", func(t *testing.T) {
		// Other packages' tests create labels of their own for a moment; what an injection
		// created stays.
		var foreign []string
		for range 10 {
			if foreign = foreignLabels(t, db); len(foreign) == 0 {
				return
			}
			time.Sleep(time.Second)
		}
		t.Errorf("labels outside the model: %v", foreign)
	})
}
