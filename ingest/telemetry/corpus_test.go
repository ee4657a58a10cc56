package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusNow is the clock of the corpus test: year-less syslog timestamps take their year from
// it, and no sample lies more than a day after it.
func corpusNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// TestCorpus converts every shared telemetry sample (../shared/samples/telemetry, see
// ../shared/samples/SOURCES.md; read where they are, never copied into the repository) with
// the adapter its folder names. Nothing may abort the conversion, every event must validate
// and survive Encode and Decode unchanged, event ids must be unique, and each folder must
// yield the kinds its sources carry. Skipped and dead-lettered records are logged by reason.
func TestCorpus(t *testing.T) {
	samplesDir := filepath.Join("..", "..", "..", "shared", "samples", "telemetry")
	if _, err := os.Stat(samplesDir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("no shared samples at %s", samplesDir)
	}
	for _, tc := range []struct {
		folder, source string
		kinds          []string // the folder yields at least one event of each
	}{
		{"suricata-eve", SourceSuricata, []string{KindAlert, KindFlow}},
		{"zeek", SourceZeek, []string{KindFlow, KindAuth}},
		{"falco", SourceFalco, []string{KindAlert}},
		{"wazuh", SourceWazuh, []string{KindAlert}},
		{"auth-logs", SourceSSHD, []string{KindAuth}},
		{"iot-sensor", SourceFIWARE, []string{KindMetric}},
		{"netflow", SourceFlowCSV, []string{KindFlow}},
	} {
		t.Run(tc.folder, func(t *testing.T) {
			entries, err := os.ReadDir(filepath.Join(samplesDir, tc.folder))
			if errors.Is(err, os.ErrNotExist) {
				t.Skip("folder not present")
			}
			if err != nil {
				t.Fatal(err)
			}
			total := map[string]int{}
			for _, e := range entries {
				if e.IsDir() {
					continue
				}
				st, reasons := convertSample(t, filepath.Join(samplesDir, tc.folder, e.Name()), tc.source)
				for k, n := range st.Events {
					total[k] += n
				}
				t.Logf("%s: %d records → events %v, skipped %v, malformed %d %v",
					e.Name(), st.Records, st.Events, st.Skipped, st.Malformed, reasons)
			}
			for _, k := range tc.kinds {
				if total[k] == 0 {
					t.Errorf("no %s events from %s (events: %v)", k, tc.folder, total)
				}
			}
		})
	}
}

// convertSample converts one file and checks its events; it returns the stats and the
// dead-letter reasons counted.
func convertSample(t *testing.T, path, source string) (Stats, map[string]int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reasons := map[string]int{}
	ids := map[string]bool{}
	c := Converter{Source: source, Twin: "corpus", Now: corpusNow, DeadLetter: func(b BadRecord) {
		if !errors.Is(b.Err, ErrMalformed) {
			t.Errorf("%s: record %d: dead letter error does not match ErrMalformed: %v", path, b.Index, b.Err)
		}
		reasons[b.Err.Error()]++
	}}
	st, err := c.Run(context.Background(), f, func(ev Event) error {
		if err := ev.ValidateAt(corpusNow()); err != nil {
			return fmt.Errorf("event does not validate: %w", err)
		}
		if ids[ev.ID] {
			t.Errorf("%s: duplicate event id %s", path, ev.ID)
		}
		ids[ev.ID] = true
		return checkRoundTrip(ev, corpusNow())
	})
	if err != nil {
		t.Errorf("%s: %v", path, err)
	}
	if n := st.EventCount(); n != len(ids) {
		t.Errorf("%s: %d events counted, %d seen", path, n, len(ids))
	}
	return st, reasons
}

// checkRoundTrip encodes ev, decodes it again (with now as the clock) and compares.
func checkRoundTrip(ev Event, now time.Time) error {
	b, err := Encode(ev)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	got, err := decodeEvent(b, "", "", now)
	if err != nil {
		return fmt.Errorf("decode what Encode wrote: %w", err)
	}
	if !sameEvent(got, ev) {
		return fmt.Errorf("round trip changed the event:\n got %q %q %q %q %s\nwant %q %q %q %q %s",
			got.ID, got.Source, got.Twin, got.Subject, describe(got), ev.ID, ev.Source, ev.Twin, ev.Subject, describe(ev))
	}
	return nil
}

func sameEvent(a, b Event) bool {
	return a.ID == b.ID && a.Source == b.Source && a.Time.Equal(b.Time) && a.Twin == b.Twin &&
		a.Kind == b.Kind && a.Subject == b.Subject && describe(a) == describe(b)
}

func describe(e Event) string {
	var parts []string
	for _, p := range []any{e.Flow, e.Auth, e.Alert, e.Metric, e.Deploy} {
		parts = append(parts, strings.TrimPrefix(fmt.Sprintf("%+v", p), "&"))
	}
	return e.Kind + " " + e.Time.UTC().Format(time.RFC3339Nano) + " " + strings.Join(slices.Clip(parts), " ")
}
