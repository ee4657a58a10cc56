package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/sectwin/sectwin/internal/server"
)

// limitsSchema is small but recursive, so queries can nest as deep as a test needs.
var limitsSchema = gqlparser.MustLoadSchema(&ast.Source{Name: "limits.graphqls", Input: `
type Query {
  node(id: ID): Node
  nodes(first: Int = 10): [Node!]!
}
interface Named { name: String! }
type Node implements Named {
  id: ID!
  name: String!
  child: Node
  children: [Node!]!
}
`})

// fakeSchema is the executable schema complexity.Calculate needs: default costs (1 a field plus
// its children), except Query.nodes, which costs its children times its first argument.
type fakeSchema struct{}

func (fakeSchema) Schema() *ast.Schema { return limitsSchema }

func (fakeSchema) Complexity(_ context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if typeName == "Query" && field == "nodes" {
		switch n := args["first"].(type) {
		case int64:
			return child * int(n), true
		case int:
			return child * n, true
		}
	}
	return 0, false
}

func (fakeSchema) Exec(context.Context) graphql.ResponseHandler { return nil }

// graphiQLIntrospection is the introspection query GraphiQL sends (graphql-js
// getIntrospectionQuery with descriptions, specifiedByURL, repeatable directives and deprecated
// input values). Its TypeRef fragment nests ofType eight levels deep.
const graphiQLIntrospection = `query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name
      description
      isRepeatable
      locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind
  name
  description
  specifiedByURL
  fields(includeDeprecated: true) {
    name
    description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
  isDeprecated
  deprecationReason
}
fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType { kind name }
              }
            }
          }
        }
      }
    }
  }
}`

// nest returns depth levels of node { child { child ... { id } } }: a query of that depth.
func nest(depth int) string {
	return "{ node " + strings.Repeat("{ child ", depth-2) + "{ id }" + strings.Repeat(" }", depth-2) + " }"
}

// aliases returns n aliased fields of a Node.
func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: name ", i)
	}
	return b.String()
}

// aliased returns a query with n aliased fields.
func aliased(n int) string { return "{ node { " + aliases(n) + "} }" }

// fragmentBomb returns a document whose fragments each spread the next twice, levels deep, with
// one aliased field at the bottom: 2^levels aliases once expanded, from a few hundred bytes.
func fragmentBomb(levels int) string {
	var b strings.Builder
	b.WriteString("{ node { ...F0 } }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Node { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Node { x: name }\n", levels)
	return b.String()
}

// mutate runs the extension on one operation of query, as gqlgen does after validation.
// Unvalidated documents (validate false) let a test send what validation would reject.
func mutate(t *testing.T, l *server.QueryLimits, query, opName string, vars map[string]any, validate bool) (*gqlerror.Error, *graphql.OperationContext) {
	t.Helper()
	var doc *ast.QueryDocument
	if validate {
		var errs gqlerror.List
		if doc, errs = gqlparser.LoadQuery(limitsSchema, query); len(errs) > 0 {
			t.Fatalf("query does not validate: %v", errs)
		}
	} else {
		var err error
		if doc, err = parser.ParseQuery(&ast.Source{Input: query}); err != nil {
			t.Fatalf("query does not parse: %v", err)
		}
	}
	if err := l.Validate(fakeSchema{}); err != nil {
		t.Fatal(err)
	}
	opCtx := &graphql.OperationContext{Doc: doc, OperationName: opName, Operation: doc.Operations.ForName(opName), Variables: vars}
	return l.MutateOperationContext(context.Background(), opCtx), opCtx
}

func TestQueryLimits(t *testing.T) {
	t.Parallel()
	const none = 0
	tests := []struct {
		name                   string
		depth, aliases, complx int
		query, op              string
		vars                   map[string]any
		unvalidated            bool
		wantLimit, wantActual  int    // wantActual 0: the query passes
		wantMsg                string // part of the error message
	}{
		{name: "depth under the limit", depth: 4, query: nest(3)},
		{name: "depth at the limit", depth: 4, query: nest(4)},
		{name: "depth over the limit", depth: 4, query: nest(5), wantLimit: 4, wantActual: 5,
			wantMsg: "query depth 5 exceeds the limit of 4; ask for fewer nested levels"},
		{name: "a depth of 1 allows leaf fields only", depth: 1, query: "{ node { id } }", wantLimit: 1, wantActual: 2},
		{name: "depth through fragment spreads", depth: 4,
			query:     "{ node { child { ...A } } } fragment A on Node { child { ...B } } fragment B on Node { child { id } }",
			wantLimit: 4, wantActual: 5},
		{name: "depth through inline fragments", depth: 4,
			query:     "{ node { ... on Node { child { ... on Named { ... on Node { child { child { id } } } } } } } }",
			wantLimit: 4, wantActual: 5},
		{name: "depth of a fragment spread at two depths counts the deeper", depth: 4,
			query:     "{ node { ...F child { child { ...F } } } } fragment F on Node { child { id } }",
			wantLimit: 4, wantActual: 5},
		{name: "depth of a fragment spread at two depths, within the limit", depth: 5,
			query: "{ node { child { child { ...F } } ...F } } fragment F on Node { child { id } }"},
		{name: "__typename does not add depth", depth: 3, query: "{ node { child { __typename id } } __typename }"},
		{name: "depth picks the longest branch", depth: 3,
			query: "{ node { id } nodes { child { child { id } } } }", wantLimit: 3, wantActual: 4},
		{name: "GraphiQL introspection passes low limits", depth: 2, aliases: 1, complx: 5, query: graphiQLIntrospection},
		{name: "__type introspection does not count", depth: 2,
			query: `{ node { id } __type(name: "Node") { fields { type { ofType { ofType { name } } } } } }`},
		{name: "introspection in a fragment does not count", depth: 2,
			query: "{ ...Q } fragment Q on Query { node { id } __schema { types { fields { type { name } } } } }"},
		{name: "aliases at the limit", aliases: 3, query: aliased(3)},
		{name: "aliases over the limit", aliases: 3, query: aliased(4), wantLimit: 3, wantActual: 4,
			wantMsg: "query has 4 aliased fields, which exceeds the limit of 3"},
		{name: "alias equal to the name is no alias", aliases: 1, query: "{ node { id: id name: name n: name } }"},
		{name: "aliases in fragments count at each spread", aliases: 3,
			query:     "{ a: node { ...F } node { child { ...F } } } fragment F on Node { x: id y: name }",
			wantLimit: 3, wantActual: 5},
		{name: "aliases inside introspection count", aliases: 1,
			query: "{ __schema { a: types { name } b: types { name } } }", wantLimit: 1, wantActual: 2},
		{name: "complexity at the limit", complx: 6, query: "{ node { id name child { id name } } }"},
		{name: "complexity over the limit", complx: 5, query: "{ node { id name child { id name } } }",
			wantLimit: 5, wantActual: 6, wantMsg: "query complexity 6 exceeds the limit of 5"},
		{name: "complexity reads variables", complx: 100, query: "query($n: Int) { nodes(first: $n) { id name } }",
			vars: map[string]any{"n": 60}, wantLimit: 100, wantActual: 120},
		{name: "complexity of the selected operation only", complx: 100, op: "Small",
			query: "query Big { nodes(first: 1000) { id } } query Small { node { id } }"},
		{name: "depth of the selected operation only", depth: 3, op: "Deep",
			query: "query Deep { node { child { child { id } } } } query Flat { node { id } }", wantLimit: 3, wantActual: 4},
		{name: "depth is checked before aliases", depth: 2, aliases: 1, query: "{ a: node { b: child { id } } }",
			wantLimit: 2, wantActual: 3},
		{name: "zero limits are off", depth: none, aliases: none, complx: none,
			query: strings.Replace(nest(40), "{ node", "{ x: nodes(first: 100000) { "+aliases(100)+"} node", 1)},
		{name: "negative limits are off", depth: -1, aliases: -1, complx: -1, query: aliased(50)},
		{name: "fragment cycles end", depth: 3, aliases: 1, unvalidated: true,
			query: "{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { x: id ...A }"},
		{name: "fragment bomb is walked once per fragment", depth: 10, aliases: 30, unvalidated: true,
			query: fragmentBomb(40), wantLimit: 30, wantActual: 1 << 40},
		{name: "fragment bomb is refused before the complexity count", complx: 5000, unvalidated: true,
			query: strings.Replace(fragmentBomb(40), "x: name", "name", 1), wantLimit: 100_000, wantActual: 1<<40 + 1,
			wantMsg: "query expands to 1099511627777 fields through its fragments, which exceeds the limit of 100000"},
		{name: "expansion bound follows a higher complexity limit", complx: 1 << 20, unvalidated: true,
			query: strings.Replace(fragmentBomb(30), "x: name", "name", 1), wantLimit: 1 << 20, wantActual: 1<<30 + 1},
		{name: "fragment bomb alias count saturates", aliases: 30, unvalidated: true,
			query: fragmentBomb(200), wantLimit: 30, wantActual: int(^uint(0) >> 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &server.QueryLimits{MaxDepth: tt.depth, MaxAliases: tt.aliases, MaxComplexity: tt.complx}
			start := time.Now()
			gqlErr, _ := mutate(t, l, tt.query, tt.op, tt.vars, !tt.unvalidated)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v", took)
			}
			if tt.wantActual == 0 {
				if gqlErr != nil {
					t.Fatalf("refused: %v %v", gqlErr.Message, gqlErr.Extensions)
				}
				return
			}
			if gqlErr == nil {
				t.Fatalf("passed; want a refusal with limit %d, actual %d", tt.wantLimit, tt.wantActual)
			}
			want := map[string]any{"code": "QUERY_TOO_COMPLEX", "limit": tt.wantLimit, "actual": tt.wantActual}
			for k, v := range want {
				if gqlErr.Extensions[k] != v {
					t.Errorf("extensions[%q] = %v, want %v (%s)", k, gqlErr.Extensions[k], v, gqlErr.Message)
				}
			}
			if !strings.Contains(gqlErr.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", gqlErr.Message, tt.wantMsg)
			}
		})
	}
}

func TestQueryLimitsRecordsComplexityStats(t *testing.T) {
	t.Parallel()
	l := &server.QueryLimits{MaxComplexity: 50}
	gqlErr, opCtx := mutate(t, l, "{ node { id name } }", "", nil, true)
	if gqlErr != nil {
		t.Fatal(gqlErr)
	}
	s := extension.GetComplexityStats(graphql.WithOperationContext(context.Background(), opCtx))
	if s == nil || s.Complexity != 3 || s.ComplexityLimit != 50 {
		t.Fatalf("complexity stats = %+v, want complexity 3, limit 50", s)
	}
	if l.ExtensionName() == "" || l.Validate(nil) == nil {
		t.Fatal("QueryLimits needs a name and must refuse a nil schema")
	}
}

func BenchmarkQueryLimits(b *testing.B) {
	doc, errs := gqlparser.LoadQuery(limitsSchema, graphiQLIntrospection)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	l := &server.QueryLimits{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 5000}
	if err := l.Validate(fakeSchema{}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
		if err := l.MutateOperationContext(ctx, opCtx); err != nil {
			b.Fatal(err)
		}
	}
}
