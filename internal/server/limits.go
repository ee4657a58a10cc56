package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodeQueryTooComplex is the extensions.code of an operation refused by QueryLimits.
const CodeQueryTooComplex = "QUERY_TOO_COMPLEX"

// maxExpandedFields is the least bound on the fields an operation expands to through its
// fragments when the complexity limit is on; see QueryLimits.
const maxExpandedFields = 100_000

// complexityStatsKey is the operation stats key gqlgen's extension.ComplexityLimit uses, so
// extension.GetComplexityStats reads the complexity QueryLimits computed.
const complexityStatsKey = "ComplexityLimit"

// QueryLimits is a gqlgen handler extension that refuses, before execution, an operation that
// nests too deeply, uses too many aliases or is too complex. Each refusal is one GraphQL error
// with extensions {"code": "QUERY_TOO_COMPLEX", "limit": N, "actual": M}. A limit <= 0 is off.
//
// Depth is the longest chain of nested fields, through fragment spreads and inline fragments;
// introspection fields (__schema, __type, __typename) and everything under them do not count,
// so GraphiQL's introspection query passes. Aliases counts every field whose alias differs from
// its name, in the whole operation including the fragments it spreads (once per spread).
// Complexity is gqlgen's complexity.Calculate, as extension.FixedComplexityLimit computes it.
// Calculate walks a fragment again at every spread, so a few hundred bytes of fragments that
// spread each other twice would keep it busy for hours: a document that expands to more than
// max(MaxComplexity, 100000) fields (which, at gqlgen's default cost of 1 a field, is over the
// limit anyway) is refused without it.
//
// Use it as a pointer: srv.Use(&server.QueryLimits{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 5000}).
type QueryLimits struct {
	MaxDepth      int
	MaxAliases    int
	MaxComplexity int

	es graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &QueryLimits{}

// ExtensionName implements graphql.HandlerExtension.
func (*QueryLimits) ExtensionName() string { return "QueryLimits" }

// Validate implements graphql.HandlerExtension; it keeps the schema for the complexity count.
func (l *QueryLimits) Validate(es graphql.ExecutableSchema) error {
	if es == nil {
		return errors.New("QueryLimits needs an executable schema")
	}
	l.es = es
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator: gqlgen calls it once per
// operation, after validation and before execution.
func (l *QueryLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil && opCtx.Doc != nil {
		op = opCtx.Doc.Operations.ForName(opCtx.OperationName)
	}
	if op == nil {
		return nil // gqlgen has already answered "operation not found"
	}
	checkComplexity := l.MaxComplexity > 0 && l.es != nil
	if l.MaxDepth > 0 || l.MaxAliases > 0 || checkComplexity {
		w := shapeWalker{doc: opCtx.Doc}
		sh := w.selectionSet(op.SelectionSet)
		if l.MaxDepth > 0 && sh.depth > l.MaxDepth {
			return tooComplex(l.MaxDepth, sh.depth, "query depth %d exceeds the limit of %d; ask for fewer nested levels")
		}
		if l.MaxAliases > 0 && sh.aliases > l.MaxAliases {
			return tooComplex(l.MaxAliases, sh.aliases, "query has %d aliased fields, which exceeds the limit of %d; ask for fewer aliases, or split the query")
		}
		if limit := max(l.MaxComplexity, maxExpandedFields); checkComplexity && sh.fields > limit {
			return tooComplex(limit, sh.fields, "query expands to %d fields through its fragments, which exceeds the limit of %d; ask for fewer fields")
		}
	}
	if checkComplexity {
		c := complexity.Calculate(ctx, l.es, op, opCtx.Variables)
		opCtx.Stats.SetExtension(complexityStatsKey, &extension.ComplexityStats{Complexity: c, ComplexityLimit: l.MaxComplexity})
		if c > l.MaxComplexity {
			return tooComplex(l.MaxComplexity, c, "query complexity %d exceeds the limit of %d; ask for fewer fields or fewer items")
		}
	}
	return nil
}

func tooComplex(limit, actual int, format string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, actual, limit),
		Extensions: map[string]any{"code": CodeQueryTooComplex, "limit": limit, "actual": actual},
	}
}

// shapeWalker measures an operation's depth, aliases and expanded fields in one pass. Each fragment is walked
// once and its result reused at every further spread, so the work stays linear in the document
// even when fragments spread each other many times; a fragment met again while it is being
// walked (a cycle, which validation rejects anyway) counts as empty.
type shapeWalker struct {
	doc   *ast.QueryDocument
	frags map[*ast.FragmentDefinition]fragShape // made at the first spread
}

// fragShape is what a selection set measures; a fragment's is zero while it is being walked.
type fragShape struct {
	depth   int // longest chain of fields, introspection not counted
	aliases int // aliased fields, once per spread
	fields  int // fields once per spread, as complexity.Calculate visits them (__schema subtrees skipped)
}

func (w *shapeWalker) selectionSet(set ast.SelectionSet) fragShape {
	var out fragShape
	for _, sel := range set {
		var sh fragShape
		switch s := sel.(type) {
		case *ast.Field:
			sh = w.selectionSet(s.SelectionSet)
			if s.Alias != "" && s.Alias != s.Name {
				sh.aliases = satAdd(sh.aliases, 1)
			}
			if s.Name == "__schema" {
				sh.fields = 0
			}
			sh.fields = satAdd(sh.fields, 1)
			if isIntrospectionField(s.Name) {
				sh.depth = 0
			} else {
				sh.depth++
			}
		case *ast.InlineFragment:
			sh = w.selectionSet(s.SelectionSet)
		case *ast.FragmentSpread:
			sh = w.fragment(s)
		}
		out.depth = max(out.depth, sh.depth)
		out.aliases = satAdd(out.aliases, sh.aliases)
		out.fields = satAdd(out.fields, sh.fields)
	}
	return out
}

func (w *shapeWalker) fragment(s *ast.FragmentSpread) fragShape {
	def := s.Definition
	if def == nil && w.doc != nil {
		def = w.doc.Fragments.ForName(s.Name)
	}
	if def == nil {
		return fragShape{}
	}
	if sh, ok := w.frags[def]; ok {
		return sh
	}
	if w.frags == nil {
		w.frags = make(map[*ast.FragmentDefinition]fragShape)
	}
	w.frags[def] = fragShape{}
	sh := w.selectionSet(def.SelectionSet)
	w.frags[def] = sh
	return sh
}

// isIntrospectionField reports the meta fields whose subtrees do not count towards depth.
func isIntrospectionField(name string) bool {
	return name == "__schema" || name == "__type" || name == "__typename"
}

// satAdd adds two non-negative counts, stopping at the largest int instead of overflowing (a
// fragment spread many times over multiplies its counts).
func satAdd(a, b int) int {
	if s := a + b; s >= a {
		return s
	}
	return int(^uint(0) >> 1)
}
