package collector

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sectwin/sectwin/edge/secret"
)

// MetricsConfig serves the collector's counters for Prometheus: GET /metrics with the bearer
// token, GET /healthz without.
type MetricsConfig struct {
	Listen   string `yaml:"listen"`    // such as 127.0.0.1:9464
	TokenRef string `yaml:"token_ref"` // env:NAME or file:PATH
}

// metricsHandler exposes the counters (read live from the collector) and Go's own metrics.
func (c *Collector) metricsHandler(token secret.Value) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, m := range []struct {
		name, help string
		v          func() int64
	}{
		{"records_total", "Records decoded.", c.n.records.Load},
		{"released_total", "Minimised records released (real-time lane).", c.n.released.Load},
		{"dropped_total", "Records dropped by drop rules or contribution bounding.", c.n.dropped.Load},
		{"malformed_total", "Malformed or oversized records, dead-lettered.", c.n.malformed.Load},
		{"failed_total", "Records the transforms could not handle, dead-lettered.", c.n.failed.Load},
		{"aggregated_total", "Records added to an aggregate window.", c.n.aggregated.Load},
		{"out_of_domain_total", "Records outside the declared aggregate partitions or without a privacy unit.", c.n.outOfDomain.Load},
		{"aggregates_total", "Aggregate partitions released.", c.n.aggregates.Load},
		{"send_failures_total", "Releases an output did not take.", c.n.sendFailures.Load},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "sectwin_edge", Name: m.name, Help: m.help,
			ConstLabels: prometheus.Labels{"site": c.cfg.Site}}, func() float64 { return float64(m.v()) }))
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "sectwin_edge", Name: "suppressed_total",
		Help: "Releases refused, by reason.", ConstLabels: prometheus.Labels{"site": c.cfg.Site, "reason": "budget_exhausted"}},
		func() float64 { return float64(c.n.refused.Load()) }))
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
		case "/metrics":
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !token.Equal([]byte(tok)) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="sectwin-edge"`)
				http.Error(w, `{"error":"missing or wrong bearer token"}`, http.StatusUnauthorized)
				return
			}
			metrics.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// serveMetrics serves until ctx ends.
func (c *Collector) serveMetrics(ctx context.Context, m *MetricsConfig) error {
	token, err := secret.Load(m.TokenRef)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: c.metricsHandler(token), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
