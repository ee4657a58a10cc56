package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestLogKeepsPackagesTogether: the output of packages running in parallel is interleaved in
// the stream; the log has each package's output in one piece, in the order the packages ended.
func TestLogKeepsPackagesTogether(t *testing.T) {
	in := `{"Action":"output","Package":"a","Test":"TestA","Output":"a1\n"}
{"Action":"output","Package":"b","Test":"TestB","Output":"b1\n"}
{"Action":"output","Package":"a","Test":"TestA","Output":"a2\n"}
{"Action":"output","Package":"b","Output":"ok b\n"}
{"Action":"pass","Package":"b"}
{"Action":"output","Package":"a","Output":"ok a\n"}
{"Action":"pass","Package":"a"}
`
	var log, out bytes.Buffer
	if _, err := run(strings.NewReader(in), &log, &out); err != nil {
		t.Fatal(err)
	}
	if want := "b1\nok b\na1\na2\nok a\n"; log.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), want)
	}
}

func TestRun(t *testing.T) {
	const passing = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: server noise\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.01s)\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"skip","Package":"p","Test":"TestS"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
`
	const failing = `{"Action":"output","Package":"q","Test":"TestB/sub","Output":"    b_test.go:12: want 2, got 3\n"}
{"Action":"output","Package":"q","Test":"TestB/sub","Output":"    --- FAIL: TestB/sub (0.00s)\n"}
{"Action":"fail","Package":"q","Test":"TestB/sub"}
{"Action":"output","Package":"q","Test":"TestB","Output":"--- FAIL: TestB (0.00s)\n"}
{"Action":"fail","Package":"q","Test":"TestB"}
{"Action":"output","Package":"q","Output":"FAIL\tq\t0.2s\n"}
{"Action":"fail","Package":"q"}
`
	tests := []struct {
		name       string
		in         string
		wantOK     bool
		wantOut    []string // in this order
		wantAbsent []string
	}{
		{
			name:       "all pass",
			in:         passing,
			wantOK:     true,
			wantOut:    []string{"--- PASS: TestA", "ok  \tp", "test: 1 passed, 1 skipped, 0 failed"},
			wantAbsent: []string{"server noise", "FAILED"},
		},
		{
			name:   "a subtest fails after passing tests: its own output comes last",
			in:     passing + failing,
			wantOK: false,
			wantOut: []string{"--- PASS: TestA", "=== FAILED q TestB/sub", "want 2, got 3",
				"=== FAILED q\n", "test: 1 passed, 1 skipped, 3 failed"},
			wantAbsent: []string{"=== FAILED q TestB\n"},
		},
		{
			name:    "a build failure outside the JSON",
			in:      "# r\nr/x.go:3:1: syntax error\n" + `{"Action":"build-fail","ImportPath":"r"}` + "\n",
			wantOK:  false,
			wantOut: []string{"outside any test", "r/x.go:3:1: syntax error", "=== FAILED r", "0 passed"},
		},
		{
			name:    "a long failure is cut to its end",
			in:      strings.Repeat(`{"Action":"output","Package":"z","Test":"TestL","Output":"line\n"}`+"\n", 100) + `{"Action":"output","Package":"z","Test":"TestL","Output":"the cause\n"}` + "\n" + `{"Action":"fail","Package":"z","Test":"TestL"}` + "\n",
			wantOK:  false,
			wantOut: []string{"(last 60 of 101 lines)", "the cause"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log, out bytes.Buffer
			ok, err := run(strings.NewReader(tt.in), &log, &out)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			got := out.String()
			at := 0
			for _, w := range tt.wantOut {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("output lacks %q after offset %d:\n%s", w, at, got)
				}
				at += i + len(w)
			}
			for _, w := range tt.wantAbsent {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
			if strings.Contains(tt.in, "server noise") && !strings.Contains(log.String(), "server noise") {
				t.Errorf("the log lacks a test's output:\n%s", log.String())
			}
			if strings.Contains(tt.in, "the cause") && !strings.HasSuffix(log.String(), "the cause\n") {
				t.Errorf("the log lacks the output of a package that never ended:\n%s", log.String())
			}
		})
	}
}
