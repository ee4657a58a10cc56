package collector_test

import (
	"testing"

	"github.com/sectwin/sectwin/edge/collector"
	"github.com/sectwin/sectwin/edge/transform"
)

// fixedKeys gives every key reference the same key, so that fuzzing explores the config, not
// the environment.
type fixedKeys struct{}

func (fixedKeys) Load(string) (transform.Secret, error) {
	return transform.NewSecret([]byte("fuzz-key-0123456789abcdef")), nil
}

// FuzzParse: no config, however broken, panics the parser, and whatever it accepts is complete.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"version: 1",
		"version: 1\nsite: s\ntwin: t\ndead_letter: d\ninputs: [{name: in, type: stdin, decoder: json, pipeline: p}]\noutputs: [{name: o, type: stdout}]\npipelines:\n  p:\n    allow_fields: [a]\n",
		"version: 1\nsite: s\ntwin: t\ndead_letter: d\nledger: l\ninputs: [{name: in, type: mqtt, broker: 'tcp://b:1883', topics: [x], decoder: fiware, pipeline: p}]\noutputs: [{name: o, type: nats, url: 'nats://n:4222', token_ref: 'env:T'}]\npipelines:\n  p:\n    privacy_unit: u\n    allow_fields: [u, port]\n    pseudonymize: {fields: [u], key_ref: 'env:K', key_id: k1, rotation: daily}\n    aggregate: {window: 15m, group_by: [port], partitions: {port: ['22']}, metrics: [{name: n, algo: DP-Count, epsilon: 1}], budget: {epsilon: 4, guarantee: w_event, w: 4}, secure_aggregation: {cohort: c, member: 1, members: [1, 2, 3], threshold: 2, output: o}}\n",
		"pipelines: &a [*a]",
		"version: 1\npipelines:\n  p:\n    generalize: {x: {ipv4_prefix: 99}}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, plans, err := collector.Parse("fuzz.yaml", data, fixedKeys{})
		if err != nil {
			return
		}
		if cfg.Hash() == "" || len(plans) != len(cfg.Pipelines) || len(cfg.Inputs) == 0 || len(cfg.Outputs) == 0 {
			t.Fatalf("accepted an incomplete config: %+v", cfg)
		}
		for _, in := range cfg.Inputs {
			if _, ok := plans[in.Pipeline]; !ok {
				t.Fatalf("input %s names pipeline %s, which has no plan", in.Name, in.Pipeline)
			}
		}
	})
}
