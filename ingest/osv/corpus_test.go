package osv

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/package-url/packageurl-go"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/ingesttest"
)

// sampleFolder is this format's folder among the shared samples.
const sampleFolder = "osv"

// TestCorpus parses every shared OSV sample and checks the document and the affected packages
// against what the raw JSON declares, read independently.
func TestCorpus(t *testing.T) {
	for _, f := range ingesttest.Samples(t, sampleFolder) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := ingesttest.ReadFile(t, f)
			doc, affected, err := Advisory(data)
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, format, doc)
			if f, err := ingest.Detect(data); err != nil || f != format {
				t.Errorf("ingest.Detect = %q, %v; want %q", f, err, format)
			}
			var raw map[string]any
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			list := func(v any) []any { l, _ := v.([]any); return l }
			s := func(v any) string { x, _ := v.(string); return x }
			id := s(raw["id"])
			if up := strings.ToUpper(id); strings.HasPrefix(up, "CVE-") {
				id = up
			}
			var aliases []string
			for _, a := range append(list(raw["aliases"]), list(raw["upstream"])...) {
				if s(a) != id {
					aliases = append(aliases, s(a))
				}
			}
			nRanges, nEvents, nVersions := 0, 0, 0
			for _, a := range list(raw["affected"]) {
				am, _ := a.(map[string]any)
				nVersions += len(list(am["versions"]))
				for _, r := range list(am["ranges"]) {
					rm, _ := r.(map[string]any)
					nRanges++
					nEvents += len(list(rm["events"]))
				}
			}
			hasCVSS := false
			for _, sv := range list(raw["severity"]) {
				svm, _ := sv.(map[string]any)
				hasCVSS = hasCVSS || strings.HasPrefix(s(svm["type"]), "CVSS_")
			}

			if doc.Counts.Vulnerabilities != 1 || doc.Counts.Components+doc.Counts.Relationships+doc.Counts.Results != 0 {
				t.Errorf("Counts %+v, want one vulnerability", doc.Counts)
			}
			if s(raw["schema_version"]) != doc.Version {
				t.Errorf("Version %q, the record says %q", doc.Version, s(raw["schema_version"]))
			}
			vulns := ingesttest.NodesOf(doc, graph.LabelVulnerability)
			v, ok := vulns[id]
			if !ok || len(vulns) != 1 || len(doc.Batch.Edges) != 0 {
				t.Fatalf("vulnerabilities %v, want only %s and no edges", vulns, id)
			}
			got, _ := v["aliases"].([]string)
			if !slices.Equal(got, aliases) {
				t.Errorf("aliases %v, want %v", got, aliases)
			}
			if _, scored := v["cvssScore"].(float64); scored != hasCVSS {
				t.Errorf("cvssScore %v, the record has a CVSS vector: %v", v["cvssScore"], hasCVSS)
			}
			if v["summary"] == nil {
				t.Error("no summary")
			}
			gotRanges, gotEvents, gotVersions := 0, 0, 0
			for _, a := range affected {
				if a.VulnerabilityID != id {
					t.Errorf("affected for %q, want %q", a.VulnerabilityID, id)
				}
				gotVersions += len(a.Versions)
				gotRanges += len(a.Ranges)
				for _, r := range a.Ranges {
					gotEvents += len(r.Events)
				}
			}
			if len(affected) != len(list(raw["affected"])) || gotRanges != nRanges || gotEvents != nEvents || gotVersions != nVersions {
				t.Errorf("%d affected, %d ranges, %d events, %d versions; the record has %d, %d, %d, %d",
					len(affected), gotRanges, gotEvents, gotVersions, len(list(raw["affected"])), nRanges, nEvents, nVersions)
			}
			t.Logf("%s: %v; %d affected, %d ranges, %d events, %d versions; %d warnings", id, v, len(affected), gotRanges, gotEvents, gotVersions, len(doc.Warnings))
			for _, w := range doc.Warnings {
				t.Logf("warning %s: %s", w.Path, w.Message)
			}
		})
	}
}

// TestAffectsBruteForce checks Affects on every range of the fixtures and the samples against a
// brute-force reading of the same events: for each candidate version (the events' versions,
// the enumerated versions and their neighbours), the latest event that applies to it says
// whether it is affected (introduced: at or below it; fixed: at or below it; last_affected:
// below it; a limiting event wins a tie), and the earliest event that does not apply yet says
// which version fixes it.
func TestAffectsBruteForce(t *testing.T) {
	files := ingesttest.TestdataFiles(t)
	if dir := ingesttest.SamplesDir(sampleFolder); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, more...)
	}
	checked := 0
	for _, f := range files {
		_, affected, err := Advisory(ingesttest.ReadFile(t, f))
		if err != nil {
			t.Fatal(f, err)
		}
		for ai, a := range affected {
			// Where a record both enumerates versions and gives ranges of its own ordering, the
			// ranges alone must find every enumerated version affected.
			if len(a.Versions) > 0 && slices.ContainsFunc(a.Ranges, func(r Range) bool { return r.Type == "ECOSYSTEM" || r.Type == "SEMVER" }) {
				rangesOnly := a
				rangesOnly.Versions = nil
				rangesOnly.Ranges = slices.DeleteFunc(slices.Clone(a.Ranges), func(r Range) bool { return r.Type == "GIT" })
				for _, v := range a.Versions {
					if aff, _, ok := Affects(rangesOnly, "", v); !aff || !ok {
						t.Errorf("%s affected[%d]: enumerated version %q is not in its ranges: %v, %v", filepath.Base(f), ai, v, aff, ok)
					}
				}
			}
			eco := ecosystemBase(a.Ecosystem)
			cmp, known := ordering("ECOSYSTEM", eco)
			if !known {
				continue
			}
			for _, r := range a.Ranges {
				if c, ok := ordering(r.Type, eco); ok {
					cmp = c // one ordering for all of a's ranges: true of every record here
				}
			}
			var cands []string
			add := func(v string) {
				if _, ok := cmp(v, v); ok && !slices.Contains(cands, v) {
					cands = append(cands, v)
				}
			}
			for _, v := range a.Versions {
				add(v)
			}
			for _, r := range a.Ranges {
				for _, e := range r.Events {
					for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected} {
						if v != "" && v != "0" {
							for _, n := range neighbours(v) {
								add(n)
							}
						}
					}
				}
			}
			for _, v := range cands {
				wantAff, wantFix, wantOK := bruteForce(a, cmp, v)
				aff, fix, ok := Affects(a, "", v)
				if aff != wantAff || fix != wantFix || ok != wantOK {
					t.Errorf("%s affected[%d] (%s) at %q: Affects = %v, %q, %v; brute force %v, %q, %v",
						filepath.Base(f), ai, a.Ecosystem, v, aff, fix, ok, wantAff, wantFix, wantOK)
				}
				if a.Purl != "" {
					p, err := packageurl.FromString(a.Purl)
					if err != nil {
						t.Fatal(err)
					}
					p.Version = v
					if aff2, fix2, ok2 := Affects(a, p.ToString(), ""); aff2 != aff || fix2 != fix || ok2 != ok {
						t.Errorf("%s affected[%d] at %s: %v, %q, %v; by version alone %v, %q, %v",
							filepath.Base(f), ai, p.ToString(), aff2, fix2, ok2, aff, fix, ok)
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d versions checked", checked)
	if checked < 50 { // the fixtures alone give 60, the samples 310 more

		t.Errorf("only %d versions checked", checked)
	}
}

// bruteForce decides a version the slow way (see TestAffectsBruteForce).
func bruteForce(a Affected, cmp comparator, v string) (bool, string, bool) {
	affected, fixed, undecided := false, "", false
	for _, x := range a.Versions {
		if c, ok := cmp(x, v); x == v || ok && c == 0 {
			affected = true
		}
	}
	for _, r := range a.Ranges {
		if r.Type != "SEMVER" && r.Type != "ECOSYSTEM" {
			if !(r.Type == "GIT" && len(a.Versions) > 0) {
				undecided = true
			}
			continue
		}
		type ev struct {
			kind int
			ver  string
		}
		var applying, pending []ev
		bad := false
		for _, e := range r.Events {
			var x ev
			switch {
			case e.Introduced != "":
				x = ev{0, e.Introduced}
			case e.Fixed != "":
				x = ev{1, e.Fixed}
			case e.LastAffected != "":
				x = ev{2, e.LastAffected}
			default:
				continue
			}
			if x.kind == 0 && x.ver == "0" {
				applying = append(applying, x)
				continue
			}
			c, ok := cmp(x.ver, v)
			bad = bad || !ok
			if c < 0 || c == 0 && x.kind < 2 {
				applying = append(applying, x)
			} else {
				pending = append(pending, x)
			}
		}
		if bad {
			undecided = true
			continue
		}
		order := func(x, y ev) int {
			switch {
			case x.kind == 0 && x.ver == "0":
				return -1
			case y.kind == 0 && y.ver == "0":
				return 1
			}
			if c, _ := cmp(x.ver, y.ver); c != 0 {
				return c
			}
			return x.kind - y.kind
		}
		if len(applying) == 0 || slices.MaxFunc(applying, order).kind != 0 {
			continue
		}
		affected = true
		if len(pending) > 0 {
			if next := slices.MinFunc(pending, order); next.kind == 1 {
				if c, _ := cmp(next.ver, fixed); fixed == "" || c < 0 {
					fixed = next.ver
				}
			}
		}
	}
	if affected {
		return true, fixed, true
	}
	return false, "", !undecided
}

// neighbours returns a version and versions just around it: its last and first numbers moved
// up and down by one.
func neighbours(v string) []string {
	out := []string{v}
	var runs [][2]int
	for i := 0; i < len(v); {
		if !isDigit(v[i]) {
			i++
			continue
		}
		j := i
		for j < len(v) && isDigit(v[j]) {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	for _, r := range [][2]int{runs[len(runs)-1], runs[0]} {
		if len(runs) == 0 {
			break
		}
		n, err := strconv.Atoi(v[r[0]:r[1]])
		if err != nil {
			continue
		}
		for _, d := range []int{-1, 1} {
			if n+d >= 0 {
				out = append(out, v[:r[0]]+fmt.Sprint(n+d)+v[r[1]:])
			}
		}
	}
	return out
}
