// Package server is sectwin's HTTP surface: health and readiness, Prometheus metrics, GraphQL over
// POST, GET and websockets, and the GraphiQL page. Everything but the health checks and the static
// GraphiQL shell requires a bearer token.
package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sectwin/sectwin/ingest/telemetryhook"
	"github.com/sectwin/sectwin/ingest/webhook"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/resolvers"
	"github.com/sectwin/sectwin/resolvers/generated"
)

// Options configure the handler.
type Options struct {
	Log      zerolog.Logger
	Auth     *auth.Authenticator
	Resolver *resolvers.Resolver
	Checks   []Check
	GraphiQL bool
	// MaxDepth, MaxAliases and MaxComplexity bound each GraphQL operation (see QueryLimits); an
	// operation over one fails with QUERY_TOO_COMPLEX. A limit <= 0 is off.
	MaxDepth      int
	MaxAliases    int
	MaxComplexity int
	// Ingest serves POST /ingest and the job endpoints; nil leaves them out.
	Ingest *webhook.Handler
	// Telemetry serves POST /telemetry; nil leaves it out.
	Telemetry *telemetryhook.Handler
	// Closing is done when the server starts shutting down; open websockets end then, because
	// http.Server.Shutdown does not wait for or close hijacked connections.
	Closing <-chan struct{}
}

// maxBodyBytes bounds a request body. GraphQL documents are small; ingest has its own limits.
const maxBodyBytes = 2 << 20

// New returns sectwin's HTTP handler.
func New(o Options) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newHTTPMetrics(reg)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, observe(o.Log, m), middleware.Recoverer)

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"code": "NOT_FOUND", "message": "no such endpoint: see the README's endpoint table"}})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "METHOD_NOT_ALLOWED", "message": r.Method + " is not served here"}})
	})
	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(o.Checks))
	if o.GraphiQL {
		// A static page: it holds no data, and every query it sends needs a token, which the
		// user pastes into its Headers tab.
		r.Get("/", playground.Handler("sectwin GraphiQL", "/graphql",
			playground.WithGraphiqlUiHeaders(map[string]string{"Authorization": "Bearer <paste .sectwin/admin.token here>"}),
			playground.WithStoragePrefix("sectwin_")))
	}

	r.Group(func(r chi.Router) {
		// Two requests come in without a bearer token and authenticate later: websocket
		// handshakes (in connection_init) and HMAC-signed ingest posts (the signature).
		r.Use(o.Auth.Middleware(func(r *http.Request) bool {
			return (r.URL.Path == "/graphql" && isWebsocketUpgrade(r)) || (o.Ingest != nil && webhook.Signed(r))
		}))
		r.With(auth.RequireScope(auth.ScopeMetrics)).Get("/metrics",
			promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}).ServeHTTP)
		r.With(limitBody, closeOnShutdown(o.Closing)).Handle("/graphql", graphqlHandler(o))
		if o.Ingest != nil {
			o.Ingest.Routes(r)
		}
		if o.Telemetry != nil {
			o.Telemetry.Routes(r)
		}
	})
	return r
}

func graphqlHandler(o Options) http.Handler {
	srv := handler.New(pagedComplexity{generated.NewExecutableSchema(generated.Config{Resolvers: o.Resolver})})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(o.Resolver.WithRequestState(ctx))
	})
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			// Tokens travel in the connection_init payload or the Authorization header, never in
			// cookies, so a cross-origin page cannot ride on a user's credentials: any origin may
			// connect.
			InsecureSkipVerify: true,
		}},
		InitFunc: wsInit(o.Auth),
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(&QueryLimits{MaxDepth: o.MaxDepth, MaxAliases: o.MaxAliases, MaxComplexity: o.MaxComplexity})
	srv.SetErrorPresenter(resolvers.PresentError)
	srv.SetRecoverFunc(resolvers.Recover)
	return srv
}

// pagedComplexity makes a field with a first: argument cost first times its selection, so the
// complexity limit bounds roughly how many fields a query can return.
type pagedComplexity struct{ graphql.ExecutableSchema }

func (p pagedComplexity) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	if n := intArg(args["first"]); n > 1 {
		return 1 + childComplexity*int(min(n, 1<<20)), true
	}
	return p.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
}

// intArg reads an integer argument as parsed from a literal (int64) or a JSON variable.
func intArg(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// wsInit authenticates a websocket that arrived without an Authorization header from its
// connection_init payload ({"Authorization": "Bearer <token>"}).
func wsInit(a *auth.Authenticator) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if _, ok := auth.FromContext(ctx); ok {
			return ctx, nil, nil
		}
		secret := auth.BearerToken(p.Authorization())
		if secret == "" {
			secret = strings.TrimSpace(p.Authorization()) // some clients send the bare token
		}
		principal, err := a.Authenticate(ctx, secret)
		if err != nil {
			code, _ := auth.Code(err)
			closeCode := 4401
			if code == "UNAVAILABLE" {
				closeCode = 4503
			}
			ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, closeCode), code)
			return ctx, nil, err
		}
		return auth.WithPrincipal(ctx, principal), nil, nil
	}
}

// isWebsocketUpgrade reports a websocket handshake, the one request allowed in without a header:
// gqlgen then authenticates it from connection_init.
func isWebsocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// closeOnShutdown gives websocket requests a context that also ends when closing is done.
func closeOnShutdown(closing <-chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if closing == nil || !isWebsocketUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			go func() {
				select {
				case <-closing:
					cancel()
				case <-ctx.Done():
				}
			}()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// observe wraps each request once to log one line and record its metrics, and gives handlers a
// logger (zerolog.Ctx) that carries the request id. Headers are never logged: they hold tokens.
func observe(log zerolog.Logger, m *httpMetrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			m.inflight.Inc()
			defer m.inflight.Dec()
			l := log.With().Str("request_id", middleware.GetReqID(r.Context())).Logger()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r.WithContext(l.WithContext(r.Context())))
			took := time.Since(start)
			route := routePattern(r)
			m.record(route, methodLabel(r.Method), ww.Status(), took)
			lvl := zerolog.DebugLevel
			if ww.Status() >= 500 {
				lvl = zerolog.WarnLevel
			} else if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && r.URL.Path != "/metrics" {
				lvl = zerolog.InfoLevel
			}
			l.WithLevel(lvl).Str("method", r.Method).Str("route", route).
				Int("status", ww.Status()).Int("bytes", ww.BytesWritten()).
				Dur("took", took).Msg("request")
		})
	}
}
