package response_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/analytics/response"
)

// testSecret is the webhook secret of the examples; no error or audit record may show it.
const testSecret = "hunter2-the-soc-hook-secret"

// example is the playbook file of docs/playbooks.md.
const example = `version: 1
playbooks:
  - name: quarantine-dmz-to-core
    description: a DMZ host opened a connection into the core
    on: [anomaly]
    when: 'trigger.type == "new_edge" && trigger.src_zone == "dmz" && trigger.dst_zone == "core"'
    rate: {max: 5, per: 1m, key: trigger.src}
    actions:
      - quarantine: {entity: trigger.src, reason: '"new edge into the core: " + trigger.src + " -> " + trigger.dst'}
      - publish: {subject: '"sectwin.response." + trigger.twin + ".quarantine"'}
      - webhook: {url: 'https://soc.example/hook?team=blue', secret: 'env:SOC_HOOK_SECRET'}
      - finding: {entity: trigger.src, title: '"DMZ host reached the core: " + trigger.src', severity: high}
      - defeater: {entity: trigger.dst, kind: rebutting, severity: high, text: '"reached from the DMZ by " + trigger.src'}
  - name: critical-alerts
    on: [alert, event]
    when: |
      trigger.severity in ["HIGH", "CRITICAL"]
        && (trigger.fields.technique ?? "") startsWith "T1"
    dry_run: true
    actions:
      - finding: {title: 'trigger.type', severity: CRITICAL}
  - name: undermined
    on: [status_change]
    when: trigger.status == "UNDERMINED" && trigger.previous != "UNDERMINED"
    actions:
      - publish: {subject: '"sectwin.response." + trigger.twin + ".undermined"'}
`

func TestParseExample(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	set, err := response.Parse("playbooks.yaml", []byte(example), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := set.Names(), []string{"quarantine-dmz-to-core", "critical-alerts", "undermined"}; !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	// Load reads the same file from disk.
	path := filepath.Join(t.TempDir(), "playbooks.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := response.Load(path); err != nil {
		t.Errorf("Load: %v", err)
	}
	if _, err := response.Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// pb wraps actions (and other fields) in a one-playbook file; the playbook's fields start on
// line 3.
func pb(fields string) string {
	return "version: 1\nplaybooks:\n  - name: p\n" + fields
}

const okFields = "    on: [alert]\n    when: 'true'\n"

func TestParseProblems(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	t.Setenv("EMPTY_SECRET", "")
	tests := []struct {
		name, in string
		line     int
		want     string // in the problem's String
	}{
		{"empty", "", 0, "the file is empty"},
		{"not a mapping", "- a\n", 1, "must be a mapping"},
		{"syntax", "version: 1\nplaybooks: [\n", 3, "YAML syntax"},
		{"second document", "version: 1\n---\nversion: 1\n", 3, "a second YAML document"},
		{"bad version", "version: 2\nplaybooks: []\n", 1, "version: must be 1 (got 2)"},
		{"no playbooks", "version: 1\n", 0, "at least one playbook"},
		{"unknown top-level field", "version: 1\nplaybook: []\n", 2, "unknown field playbook"},
		{"unknown playbook field", pb(okFields + "    then: x\n    actions: [{publish: {subject: '\"sectwin.response.x\"'}}]\n"), 6, "unknown field then"},
		{"unknown action field", pb(okFields + "    actions:\n      - quarantine: {entity: trigger.src, host: x}\n"), 7, "unknown field host"},
		{"unknown action", pb(okFields + "    actions:\n      - shutdown: {entity: trigger.src}\n"), 7, "unknown action shutdown (one of quarantine, publish, webhook, finding, defeater)"},
		{"two actions in one item", pb(okFields + "    actions:\n      - {quarantine: {}, finding: {title: 'trigger.src', severity: LOW}}\n"), 7, "exactly one of"},
		{"an action without fields", pb(okFields + "    actions:\n      - quarantine:\n"), 7, "exactly one of"},
		{"no actions", pb(okFields), 3, "actions: at least one action"},
		{"bad name", "version: 1\nplaybooks:\n  - name: Bad Name\n" + okFields + "    actions: [quarantine: {}]\n", 3, "name: required"},
		{"duplicate name", pb(okFields+"    actions: [quarantine: {}]\n") + "  - name: p\n" + okFields + "    actions: [quarantine: {}]\n", 7, "playbook p: name: a second playbook"},
		{"no trigger kinds", pb("    when: 'true'\n    actions: [quarantine: {}]\n"), 3, "on: required"},
		{"unknown trigger kind", pb("    on: [alert, flow]\n    when: 'true'\n    actions: [quarantine: {}]\n"), 4, `unknown trigger kind "flow"`},
		{"no condition", pb("    on: [alert]\n    actions: [quarantine: {}]\n"), 3, "when: required"},
		{"bad condition syntax", pb("    on: [alert]\n    when: 'trigger.kind =='\n    actions: [quarantine: {}]\n"), 5, "when: the condition \"trigger.kind ==\" is invalid: unexpected token EOF"},
		{"unknown trigger field", pb("    on: [alert]\n    when: 'trigger.hostname == \"x\"'\n    actions: [quarantine: {}]\n"), 5, "trigger has no field hostname (column 9)"},
		{"unknown variable", pb("    on: [alert]\n    when: 'severity == \"x\"'\n    actions: [quarantine: {}]\n"), 5, "unknown name severity"},
		{"non-boolean condition", pb("    on: [alert]\n    when: 'trigger.entity'\n    actions: [quarantine: {}]\n"), 5, "must be true or false, not string"},
		{"error on the third line of a block condition", pb("    on: [alert]\n    when: |\n      trigger.kind == \"alert\"\n        &&\n        trigger.nope\n    actions: [quarantine: {}]\n"), 8, "trigger has no field nope"},
		{"a template instead of an expression", pb(okFields + "    actions:\n      - quarantine: {entity: '{{ trigger.entity }}'}\n"), 7, "not templates: write trigger.entity"},
		{"non-string entity", pb(okFields + "    actions:\n      - quarantine: {entity: 'trigger.score'}\n"), 7, "actions[0].quarantine.entity: the expression \"trigger.score\" is invalid: must give a string, not float64"},
		{"bad reason", pb(okFields + "    actions:\n      - quarantine:\n          entity: trigger.src\n          reason: 'trigger.src +'\n"), 9, "actions[0].quarantine.reason"},
		{"no subject", pb(okFields + "    actions:\n      - publish: {}\n"), 7, "publish.subject: required"},
		{"constant subject outside the prefix", pb(okFields + "    actions:\n      - publish: {subject: '\"telemetry.t.alert\"'}\n"), 7, `must start with "sectwin.response."`},
		{"no url", pb(okFields + "    actions:\n      - webhook: {secret: 'env:SOC_HOOK_SECRET'}\n"), 7, "webhook.url: required"},
		{"ftp url", pb(okFields + "    actions:\n      - webhook: {url: 'ftp://soc.example/', secret: 'env:SOC_HOOK_SECRET'}\n"), 7, "http or https"},
		{"credentials in the url", pb(okFields + "    actions:\n      - webhook: {url: 'https://u:p@soc.example/', secret: 'env:SOC_HOOK_SECRET'}\n"), 7, "must not hold credentials"},
		{"no secret", pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/'}\n"), 7, "webhook.secret: required"},
		{"missing secret", pb(okFields + "    actions:\n      - webhook:\n          url: 'https://soc.example/'\n          secret: 'env:NO_SUCH_SECRET_VARIABLE'\n"), 9, "environment variable NO_SUCH_SECRET_VARIABLE is not set"},
		{"empty secret", pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: 'env:EMPTY_SECRET'}\n"), 7, "is empty"},
		{"a secret where its reference belongs", pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: 'correct horse battery staple'}\n"), 7, "env:NAME or file:PATH"},
		{"finding without title", pb(okFields + "    actions:\n      - finding: {severity: LOW}\n"), 7, "finding.title: required"},
		{"finding severity", pb(okFields + "    actions:\n      - finding: {title: trigger.src, severity: urgent}\n"), 7, `finding.severity: must be one of LOW, MEDIUM, HIGH, CRITICAL (got "urgent")`},
		{"defeater kind", pb(okFields + "    actions:\n      - defeater: {kind: refuting, severity: low}\n"), 7, "defeater.kind: must be one of rebutting, undercutting, undermining"},
		{"defeater severity", pb(okFields + "    actions:\n      - defeater: {kind: rebutting}\n"), 7, "defeater.severity: must be one of"},
		{"defeater evidence", pb(okFields + "    actions:\n      - defeater: {kind: rebutting, severity: high, evidence: alert}\n"), 7, `defeater.evidence: must be one of trigger, none (got "alert")`},
		{"defeater evidence computed", pb(okFields + "    actions:\n      - defeater: {kind: rebutting, severity: high, evidence: trigger.type}\n"), 7, "defeater.evidence: must be one of trigger, none"},
		{"rate max", pb(okFields + "    rate: {max: 0, per: 1m}\n    actions: [quarantine: {}]\n"), 6, "rate.max: must be 1 to 10000 (got 0)"},
		{"rate per too short", pb(okFields + "    rate: {max: 1, per: 10ms}\n    actions: [quarantine: {}]\n"), 6, "rate.per: must be a duration from 1s to 24h0m0s"},
		{"rate per not a duration", pb(okFields + "    rate: {max: 1, per: 60}\n    actions: [quarantine: {}]\n"), 6, "cannot unmarshal !!int `60` into time.Duration (a duration such as 30s, 1m or 1h)"},
		{"rate per missing", pb(okFields + "    rate: {max: 1}\n    actions: [quarantine: {}]\n"), 6, "rate.per: must be a duration"},
		{"rate key not a string", pb(okFields + "    rate: {max: 1, per: 1m, key: 'trigger.score > 1'}\n    actions: [quarantine: {}]\n"), 6, "rate.key: the expression"},
		{"too long an expression", pb("    on: [alert]\n    when: '" + strings.Repeat("true && ", 600) + "true'\n    actions: [quarantine: {}]\n"), 5, "longer than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := response.Parse("pb.yaml", []byte(tt.in), nil)
			var le *response.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse: set %v, error %v; want a *LoadError", set, err)
			}
			for _, p := range le.Problems {
				if strings.Contains(p.String(), tt.want) {
					if p.Line != tt.line {
						t.Errorf("%q at line %d, want line %d", p, p.Line, tt.line)
					}
					if !strings.HasPrefix(p.String(), "pb.yaml") {
						t.Errorf("%q does not name the file", p)
					}
					return
				}
			}
			t.Errorf("problems:\n%v\nwant one with %q", err, tt.want)
		})
	}
}

func TestParseRefusesWholeFile(t *testing.T) {
	// One good and one bad playbook: the file is refused, naming the bad one.
	in := pb(okFields+"    actions: [quarantine: {}]\n") + "  - name: bad\n    on: [alert]\n    when: 'trigger.nope'\n    actions: [quarantine: {}]\n"
	set, err := response.Parse("pb.yaml", []byte(in), nil)
	if set != nil || err == nil {
		t.Fatalf("set %v, error %v", set, err)
	}
	if want := "pb.yaml:9: playbook bad: when: the condition"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestParseListsEveryProblem(t *testing.T) {
	in := pb("    on: [flow]\n    when: 'trigger.nope'\n    rate: {max: -1, per: 1m}\n    actions:\n      - finding: {title: 'trigger.src', severity: x}\n")
	_, err := response.Parse("pb.yaml", []byte(in), nil)
	var le *response.LoadError
	if !errors.As(err, &le) {
		t.Fatal(err)
	}
	var lines []int
	for _, p := range le.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{4, 5, 6, 8}; !slices.Equal(lines, want) {
		t.Errorf("problems on lines %v, want %v:\n%v", lines, want, err)
	}
}

func TestParseNeverShowsSecrets(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "hook.secret")
	if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	// A good file with secrets, then bad files around them: no error shows the secret.
	good := pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: 'file:" + secretFile + "'}\n")
	if _, err := response.Parse("pb.yaml", []byte(good), nil); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: '" + testSecret + "'}\n"),
		pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: 'env:SOC_HOOK_SECRET', x: 1}\n"),
		pb(okFields + "    actions:\n      - webhook: {url: 'https://soc.example/', secret: 'file:" + secretFile + "'}\n      - nope: {}\n"),
	} {
		_, err := response.Parse("pb.yaml", []byte(in), nil)
		if err == nil {
			t.Fatalf("no error for\n%s", in)
		}
		if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("an error shows the secret: %v", err)
		}
	}
}

// TestDocsExample parses the example at the top of docs/playbooks.md.
func TestDocsExample(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	doc, err := os.ReadFile("../../docs/playbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\nversion: 1\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no example in docs/playbooks.md")
	}
	set, err := response.Parse("docs/playbooks.md", []byte("version: 1\n"+block), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, set, &executor{}, response.NewRing(1), response.Options{})
	if ds := e.Evaluate(t.Context(), dmzToCore); len(ds) != 1 || !ds[0].Matched || len(ds[0].Actions) != 5 {
		t.Errorf("the example does not match its trigger: %+v", ds)
	}
	for _, a := range e.Evaluate(t.Context(), dmzToCore)[0].Actions {
		if a.Err != nil {
			t.Error(a.Err)
		}
	}
}
