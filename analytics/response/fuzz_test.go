package response_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/edge/secret"
)

// FuzzParse feeds the loader arbitrary files: it never panics, refuses with a *LoadError
// whose problems all name the file, never shows a secret, and a file it accepts evaluates
// triggers without panicking. Secrets resolve from the environment only (a fuzzed file:PATH
// could name /dev/zero).
func FuzzParse(f *testing.F) {
	f.Setenv("SOC_HOOK_SECRET", testSecret)
	f.Add(example)
	f.Add(pb(okFields + "    actions: [quarantine: {}]\n"))
	f.Add(pb(okFields + "    rate: {max: 1, per: 1s, key: trigger.entity}\n    actions:\n      - defeater: {kind: undermining, severity: low}\n"))
	f.Add(pb("    on: [alert]\n    when: |\n      trigger.kind == \"alert\"\n        && trigger.nope\n    actions: [quarantine: {}]\n"))
	f.Add(pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: 'file:/dev/zero'}\n"))
	f.Add("version: 1\nplaybooks: &a [*a]\n")
	f.Add("version: 1\n---\nversion: 1\n")
	f.Add("version: 1\nplaybooks: [{name: p, on: [alert], when: 'true', actions: [{shutdown: {}}]}]\n")
	f.Add("")
	envOnly := func(ref string) (secret.Value, error) {
		if !strings.HasPrefix(ref, "env:") {
			return secret.Value{}, errors.New("only env: secrets while fuzzing")
		}
		return secret.Load(ref)
	}
	f.Fuzz(func(t *testing.T, in string) {
		set, err := response.Parse("fuzz.yaml", []byte(in), envOnly)
		if err != nil {
			var le *response.LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("error %T %v, want a *LoadError with problems", err, err)
			}
			for _, p := range le.Problems {
				if p.File != "fuzz.yaml" || p.Line < 0 {
					t.Fatalf("problem %+v", p)
				}
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("an error shows the secret: %v", err)
			}
			return
		}
		if set == nil || len(set.Names()) == 0 {
			t.Fatal("no error and no playbooks")
		}
		e, err := response.New(set, &executor{}, response.NewRing(16), response.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Shutdown(context.Background())
		for _, k := range response.Kinds() {
			e.Evaluate(context.Background(), response.Trigger{Kind: k, Entity: "h", Twin: "t", Fields: map[string]any{"port": 22.0}})
		}
	})
}
