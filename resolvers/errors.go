package resolvers

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/manifest"
)

// Error codes carried in extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeBadInput        = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL"
)

// gqlErr builds a GraphQL error at the current field's path with extensions.code set.
func gqlErr(ctx context.Context, code, msg string) *gqlerror.Error {
	return &gqlerror.Error{
		Path:       graphql.GetPath(ctx),
		Message:    msg,
		Extensions: map[string]any{"code": code},
	}
}

// principal returns the caller, who must hold scope.
func principal(ctx context.Context, scope auth.Scope) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, gqlErr(ctx, CodeUnauthenticated, auth.ErrNoToken.Error())
	}
	if !p.Has(scope) {
		return auth.Principal{}, gqlErr(ctx, CodeForbidden, (&auth.ScopeError{Need: scope}).Error())
	}
	return p, nil
}

// backendErr turns an error from graph/ into a GraphQL error without leaking internals: the
// detail goes to the log, the caller gets a code and a next step.
func backendErr(ctx context.Context, err error) error {
	if errors.Is(err, graph.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return gqlErr(ctx, CodeUnavailable, "the graph database does not answer; retry shortly")
	}
	zerolog.Ctx(ctx).Error().Err(err).Str("path", graphql.GetPath(ctx).String()).Msg("resolver failed")
	return gqlErr(ctx, CodeInternal, "internal error; the server log has the details")
}

// writeErr turns an error from a graph write or read into a GraphQL error: the caller's
// mistakes become BAD_USER_INPUT (with every problem listed) or NOT_FOUND, the rest backendErr.
func writeErr(ctx context.Context, twin string, err error) error {
	var ve *graph.ValidationError
	var me *graph.MissingNodesError
	switch {
	case errors.As(err, &ve):
		e := gqlErr(ctx, CodeBadInput, ve.Error())
		probs := make([]map[string]any, len(ve.Problems))
		for i, p := range ve.Problems {
			probs[i] = map[string]any{"field": p.Path, "message": p.Message}
		}
		e.Extensions["problems"] = probs
		return e
	case errors.As(err, &me):
		return gqlErr(ctx, CodeBadInput, me.Error())
	case errors.Is(err, graph.ErrTwinNotFound):
		return notFound(ctx, twin)
	case errors.Is(err, graph.ErrBadCursor):
		return gqlErr(ctx, CodeBadInput, graph.ErrBadCursor.Error())
	}
	return backendErr(ctx, err)
}

// PresentError makes sure every error a client sees carries extensions.code.
func PresentError(ctx context.Context, err error) *gqlerror.Error {
	ge := graphql.DefaultErrorPresenter(ctx, err)
	if ge.Extensions == nil {
		ge.Extensions = map[string]any{}
	}
	if _, ok := ge.Extensions["code"]; !ok {
		var inner *gqlerror.Error
		if errors.As(err, &inner) && inner.Extensions["code"] != nil {
			ge.Extensions["code"] = inner.Extensions["code"]
		} else {
			ge.Extensions["code"] = CodeInternal
		}
	}
	return ge
}

// Recover turns a resolver panic into an INTERNAL error and logs it with its stack.
func Recover(ctx context.Context, v any) error {
	zerolog.Ctx(ctx).Error().Stack().Interface("panic", v).Str("path", graphql.GetPath(ctx).String()).Msg("resolver panicked")
	return gqlErr(ctx, CodeInternal, "internal error; the server log has the details")
}

// code returns the extensions.code of a GraphQL error, or "".
func code(err error) string {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		c, _ := ge.Extensions["code"].(string)
		return c
	}
	return ""
}

// manifestErr reports a manifest's problems as one BAD_USER_INPUT error listing each with file,
// line, column and field; other errors as writeErr does.
func manifestErr(ctx context.Context, err error) error {
	var me *manifest.Error
	if !errors.As(err, &me) {
		return writeErr(ctx, "", err)
	}
	e := gqlErr(ctx, CodeBadInput, me.Error())
	probs := make([]map[string]any, len(me.Problems))
	for i, p := range me.Problems {
		probs[i] = map[string]any{"file": p.File, "line": p.Line, "column": p.Column, "field": p.Field, "message": p.Message}
	}
	e.Extensions["problems"] = probs
	return e
}
