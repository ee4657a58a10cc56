// Command testreport turns the `go test -json` stream that `make test` produces into what a
// reader needs: the plain log (written whole to a file), one line per finished test on stdout,
// and, when something failed, each failure's own output repeated at the very end. CI shows only
// the tail of the output, so what failed and why must come last, not be buried above thousands
// of lines of server logs from the tests that passed.
//
// Usage: go test -json ./... | go run ./internal/testenv/testreport -log .test-output/go-test.log
// It exits 1 when any test, package or build failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail events
	FailedBuild string
}

// maxFailureLines bounds what is repeated per failure; the whole output stays in the log.
const maxFailureLines = 60

// key names a test within its package; a package's own output has an empty Test.
type key struct{ pkg, test string }

// report accumulates the stream.
type report struct {
	outputs  map[key][]string // every output line, by test
	failed   []key            // in the order they failed
	passed   int
	skipped  int
	progress io.Writer
	// pending holds each running package's output until it ends: packages run in parallel,
	// and the log keeps each one's output together.
	pending map[string]*strings.Builder
	order   []string // packages by first output
}

func newReport(progress io.Writer) *report {
	return &report{outputs: map[key][]string{}, progress: progress, pending: map[string]*strings.Builder{}}
}

// flush writes a package's pending output to the log.
func (r *report) flush(pkg string, log io.Writer) {
	if b := r.pending[pkg]; b != nil {
		_, _ = io.WriteString(log, b.String())
		delete(r.pending, pkg)
	}
}

// flushAll writes every package's pending output, in order of first output.
func (r *report) flushAll(log io.Writer) {
	for _, pkg := range r.order {
		r.flush(pkg, log)
	}
}

// add takes one event, writing its output to log and the lines worth seeing live to progress.
func (r *report) add(e event, log io.Writer) {
	pkg := e.Package
	if pkg == "" {
		pkg = e.ImportPath
	}
	k := key{pkg, e.Test}
	switch e.Action {
	case "output", "build-output":
		b := r.pending[pkg]
		if b == nil {
			b = &strings.Builder{}
			r.pending[pkg] = b
			r.order = append(r.order, pkg)
		}
		b.WriteString(e.Output)
		r.outputs[k] = append(r.outputs[k], strings.TrimRight(e.Output, "\n"))
		if live(e.Output) {
			_, _ = io.WriteString(r.progress, e.Output)
		}
	case "pass":
		if e.Test != "" {
			r.passed++
		}
	case "skip":
		if e.Test != "" {
			r.skipped++
		}
	case "fail", "build-fail":
		r.failed = append(r.failed, k)
	}
	if e.Test == "" && (e.Action == "pass" || e.Action == "skip" || e.Action == "fail" || e.Action == "build-fail") {
		r.flush(pkg, log)
	}
}

// live reports whether an output line belongs on the console as tests finish.
func live(line string) bool {
	t := strings.TrimLeft(line, " ")
	for _, p := range []string{"--- PASS", "--- SKIP", "--- FAIL", "ok ", "FAIL", "testenv:", "panic:"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// summarise writes the failures, each with the end of its own output, and the counts.
func (r *report) summarise(w io.Writer) {
	if stray := r.outputs[key{}]; len(stray) > 0 {
		// Output outside the JSON stream is go test's own complaint (a build or vet failure).
		fmt.Fprintln(w, "\ntest: go test said, outside any test:")
		for _, l := range tail(stray) {
			fmt.Fprintln(w, l)
		}
	}
	if len(r.failed) > 0 {
		fmt.Fprintf(w, "\ntest: %d failure(s); each one's own output follows (the whole log is in the file named above)\n", len(r.failed))
		for i, k := range r.failed {
			if k.test != "" && failedWithin(r.failed[:i], k) {
				continue // a parent fails because its subtest did, which is already shown
			}
			name := k.pkg
			if k.test != "" {
				name += " " + k.test
			}
			lines := r.outputs[k]
			if len(lines) > maxFailureLines {
				fmt.Fprintf(w, "=== FAILED %s (last %d of %d lines)\n", name, maxFailureLines, len(lines))
			} else {
				fmt.Fprintf(w, "=== FAILED %s\n", name)
			}
			for _, l := range tail(lines) {
				fmt.Fprintln(w, l)
			}
		}
	}
	fmt.Fprintf(w, "test: %d passed, %d skipped, %d failed\n", r.passed, r.skipped, len(r.failed))
}

// failedWithin reports whether one of failed is a subtest of parent.
func failedWithin(failed []key, parent key) bool {
	for _, k := range failed {
		if k.pkg == parent.pkg && strings.HasPrefix(k.test, parent.test+"/") {
			return true
		}
	}
	return false
}

// tail is the last maxFailureLines of lines.
func tail(lines []string) []string {
	if len(lines) > maxFailureLines {
		return lines[len(lines)-maxFailureLines:]
	}
	return lines
}

// run reads the stream from in; it returns whether everything passed.
func run(in io.Reader, log, out io.Writer) (bool, error) {
	r := newReport(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// go test prints some things (a failed build's summary, a vet failure) outside JSON.
			e = event{Action: "output", Output: string(line) + "\n"}
		}
		r.add(e, log)
	}
	r.flushAll(log)
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read the go test stream: %w", err)
	}
	r.summarise(out)
	return len(r.failed) == 0, nil
}

func main() {
	logPath := flag.String("log", ".test-output/go-test.log", "file for the whole plain-text log")
	flag.Parse()
	f, err := os.Create(*logPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
		os.Exit(2)
	}
	log := bufio.NewWriter(f)
	ok, err := run(os.Stdin, log, os.Stdout)
	if ferr := log.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
