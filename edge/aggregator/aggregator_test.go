package aggregator_test

import (
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/aggregator"
)

const good = `version: 1
site: region-1
twin: city
ledger: /tmp/regional.jsonl
nats: {name: rounds, type: nats, url: "nats://127.0.0.1:4222", token_ref: "env:T"}
outputs: [{name: out, type: stdout}]
pipelines:
  flows:
    aggregate:
      window: 1h
      group_by: [port]
      partitions: {port: ["22", "443"]}
      metrics: [{name: n, algo: DP-Count, epsilon: 1}]
      budget: {epsilon: 4, guarantee: event}
      secure_aggregation: {cohort: district-7, member: 1, members: [1, 2, 3], threshold: 2, output: out}
`

func TestParse(t *testing.T) {
	if _, err := aggregator.Parse("aggregate.yaml", []byte(good)); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	tests := []struct{ name, from, to, want string }{
		{"unknown field", "site: region-1", "site: region-1\nbogus: 1", "bogus"},
		{"version", "version: 1", "version: 2", "version"},
		{"no nats url", `url: "nats://127.0.0.1:4222", `, "", "nats.url"},
		{"bad phase timeout", "outputs:", "phase_timeout: soon\noutputs:", "phase_timeout"},
		{"no secure aggregation", "      secure_aggregation: {cohort: district-7, member: 1, members: [1, 2, 3], threshold: 2, output: out}\n", "", "secure_aggregation: required"},
		{"bad cohort", "cohort: district-7", "cohort: district.7", "cohort"},
		{"threshold too low", "threshold: 2", "threshold: 1", "secure_aggregation"},
		{"bad window", "window: 1h", "window: hourly", "window"},
		{"bad metric", "algo: DP-Count", "algo: DP-Magic", "metrics[0]"},
		{"separator in a partition", `port: ["22", "443"]`, `port: ["22|x", "443"]`, "partitions"},
		{"bad budget", "guarantee: event", "guarantee: forever", "budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.Replace(good, tt.from, tt.to, 1)
			if cfg == good {
				t.Fatalf("the case changes nothing")
			}
			_, err := aggregator.Parse("aggregate.yaml", []byte(cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
