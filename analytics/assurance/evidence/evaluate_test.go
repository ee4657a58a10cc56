package evidence

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	newDigest = "sha256:new"
	oldDigest = "sha256:old"
	day       = 24 * time.Hour
)

var (
	svc      = SubjectRef{Label: LabelService, Key: "payment-api"}
	artNew   = ArtifactFact{ID: gid(LabelArtifact, newDigest), Key: newDigest, Name: "pay", FirstSeen: now.Add(-2 * day), Running: true, Direct: true}
	artOld   = ArtifactFact{ID: gid(LabelArtifact, oldDigest), Key: oldDigest, Name: "pay", FirstSeen: now.Add(-30 * day)}
	artNext  = ArtifactFact{ID: gid(LabelArtifact, "sha256:next"), Key: "sha256:next", Name: "pay", FirstSeen: now.Add(-day)}
	svcFacts = SubjectFacts{Found: true, ID: gid(LabelService, "payment-api"), Artifacts: []ArtifactFact{artNew, artOld, artNext}}
)

// baseStore is a twin with the service payment-api running sha256:new, an older digest
// sha256:old of the same artifact, and nothing else.
func baseStore() *fakeStore {
	return &fakeStore{subjects: map[SubjectRef]SubjectFacts{svc: svcFacts}}
}

func scan(id, digest string, collected time.Time) ScanRun {
	return ScanRun{ID: "ScanRun:" + id, Format: "trivy", Tool: "Trivy", Artifact: digest, Source: "trivy:" + digest, Collected: collected}
}

func ptr[T any](v T) *T { return &v }

func spec(kind Kind, window time.Duration) Spec {
	return Spec{ID: "t", Kind: kind, Window: Duration(window)}
}

func eval(t *testing.T, st Store, s Spec, at time.Time) Result {
	t.Helper()
	r, err := Evaluate(context.Background(), st, "tw", s, at)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return r
}

type want struct {
	reason   assurance.Code
	status   assurance.Status
	verdict  Verdict
	culprits []string // nil: not checked
	expires  time.Time
	onExpiry assurance.Code
}

func check(t *testing.T, r Result, w want) {
	t.Helper()
	if r.Reason != w.reason || r.Status != w.status || r.Verdict != w.verdict {
		t.Errorf("got %v/%v verdict %q (%s), want %v/%v verdict %q", r.Status, r.Reason, r.Verdict, r.Message, w.status, w.reason, w.verdict)
	}
	if w.culprits != nil && !slices.Equal(r.Culprits, w.culprits) {
		t.Errorf("culprits %v, want %v", r.Culprits, w.culprits)
	}
	if !w.expires.IsZero() && !r.Expires.Equal(w.expires) {
		t.Errorf("expires %v, want %v", r.Expires, w.expires)
	}
	if r.OnExpiry != w.onExpiry {
		t.Errorf("onExpiry %v, want %v", r.OnExpiry, w.onExpiry)
	}
	if r.Status == assurance.Unknown && r.Confidence != 0 {
		t.Errorf("confidence %v for UNKNOWN", r.Confidence)
	}
	if r.Message == "" {
		t.Error("no message")
	}
}

var (
	pass    = want{status: assurance.Supported, verdict: Pass}
	missing = want{status: assurance.Unknown, reason: assurance.EvidenceMissing}
	changed = want{status: assurance.Unknown, reason: assurance.SubjectChanged}
	stale   = want{status: assurance.Unknown, reason: assurance.EvidenceStale}
	kstale  = want{status: assurance.Unknown, reason: assurance.KnowledgeStale}
	failed  = want{status: assurance.Undermined, reason: assurance.EvidenceFail, verdict: Fail}
	silent  = want{status: assurance.Unknown, reason: assurance.MonitorSilent}
	alive   = want{status: assurance.Supported, verdict: Pass, onExpiry: assurance.MonitorSilent}
)

func with(w want, f func(*want)) want { f(&w); return w }

func TestScanFresh(t *testing.T) {
	const W = 7 * day
	s := spec(KindScanFresh, W)
	s.Subject = &Subject{Service: "payment-api"}
	s.Scan = []string{"trivy"}
	cases := []struct {
		name  string
		scans []ScanRun
		sub   *Subject
		scan  []string
		want  want
	}{
		{name: "no scan", want: with(missing, func(w *want) { w.culprits = []string{artNew.ID} })},
		{name: "only the older digest scanned", scans: []ScanRun{scan("o", oldDigest, now.Add(-day))},
			want: with(changed, func(w *want) { w.culprits = []string{artNew.ID} })},
		{name: "fresh", scans: []ScanRun{scan("n", newDigest, now.Add(-day))},
			want: with(pass, func(w *want) { w.expires = now.Add(6 * day) })},
		{name: "one instant before the window ends", scans: []ScanRun{scan("n", newDigest, now.Add(-W+time.Nanosecond))},
			want: with(pass, func(w *want) { w.expires = now.Add(time.Nanosecond) })},
		{name: "window boundary is stale", scans: []ScanRun{scan("n", newDigest, now.Add(-W))},
			want: with(stale, func(w *want) { w.culprits = []string{"ScanRun:n"} })},
		{name: "newest scan counts", scans: []ScanRun{scan("a", newDigest, now.Add(-10*day)), scan("b", newDigest, now.Add(-day))},
			want: pass},
		{name: "other tool does not count", scans: []ScanRun{{ID: "g", Format: "grype", Tool: "grype", Artifact: newDigest, Collected: now}},
			want: missing},
		{name: "tool selector matches first word", scan: []string{"sarif:semgrep"},
			scans: []ScanRun{{ID: "s", Format: "sarif", Tool: "Semgrep OSS", Artifact: newDigest, Collected: now.Add(-time.Hour)}},
			want:  pass},
		{name: "tool selector refuses other tools", scan: []string{"sarif:semgrep"},
			scans: []ScanRun{{ID: "s", Format: "sarif", Tool: "CodeQL", Artifact: newDigest, Collected: now.Add(-time.Hour)}},
			want:  missing},
		{name: "unknown subject", sub: &Subject{Service: "nope"}, want: missing},
		{name: "artifact by name, build stage: newest digest", sub: &Subject{Artifact: "pay"},
			scans: []ScanRun{scan("n", newDigest, now.Add(-day))}, want: pass},
		{name: "artifact by name, build stage: old digest only", sub: &Subject{Artifact: "pay"},
			scans: []ScanRun{scan("o", oldDigest, now.Add(-day))}, want: changed},
		{name: "pinned old digest", sub: &Subject{Artifact: oldDigest},
			scans: []ScanRun{scan("o", oldDigest, now.Add(-day))}, want: pass},
		{name: "pinned old digest, only the newer one scanned", sub: &Subject{Artifact: oldDigest},
			scans: []ScanRun{scan("n", newDigest, now.Add(-day))}, want: missing},
		{name: "service: a newer build not yet running is not its subject", scans: []ScanRun{scan("b", "sha256:next", now.Add(-day))},
			want: missing},
		{name: "component: one containing artifact suffices", sub: &Subject{Component: "pkg:golang/x@1"},
			scans: []ScanRun{scan("o", oldDigest, now.Add(-day))}, want: pass},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.subjects[SubjectRef{Label: LabelArtifact, Name: "pay"}] = SubjectFacts{Found: true, Artifacts: []ArtifactFact{artNew, artOld}}
			st.subjects[SubjectRef{Label: LabelArtifact, Key: oldDigest}] = SubjectFacts{Found: true, ID: artOld.ID,
				Artifacts: []ArtifactFact{{ID: artOld.ID, Key: oldDigest, Name: "pay", FirstSeen: artOld.FirstSeen, Direct: true}, {ID: artNew.ID, Key: newDigest, Name: "pay", FirstSeen: artNew.FirstSeen}}}
			st.subjects[SubjectRef{Label: LabelComponent, Key: "pkg:golang/x@1"}] = SubjectFacts{Found: true, ID: "Component:x",
				Artifacts: []ArtifactFact{{ID: artOld.ID, Key: oldDigest, Name: "pay", Direct: true}, {ID: artNew.ID, Key: newDigest, Name: "pay", Direct: true}}}
			st.scans = c.scans
			sp := s
			if c.sub != nil {
				sp.Subject = c.sub
			}
			if c.scan != nil {
				sp.Scan = c.scan
			}
			check(t, eval(t, st, sp, now), c.want)
		})
	}
}

func TestScanFreshRunningStage(t *testing.T) {
	st := baseStore()
	st.subjects[SubjectRef{Label: LabelTwin}] = SubjectFacts{Found: true, ID: "Twin:tw", Artifacts: []ArtifactFact{
		{ID: artOld.ID, Key: oldDigest, Name: "pay", FirstSeen: artOld.FirstSeen, Running: true},
		{ID: artNew.ID, Key: newDigest, Name: "pay", FirstSeen: artNew.FirstSeen}}}
	st.scans = []ScanRun{scan("o", oldDigest, now.Add(-day))}
	s := spec(KindScanFresh, 7*day)
	s.Scan = []string{"trivy"}
	s.Subject = &Subject{Twin: true, Stage: StageRunning}
	check(t, eval(t, st, s, now), pass)
	s.Subject = &Subject{Twin: true} // build: the newest digest, never scanned
	check(t, eval(t, st, s, now), changed)
}

func TestNoOpenVulns(t *testing.T) {
	const W = 7 * day
	collected := now.Add(-day)
	base := spec(KindNoOpenVulns, W)
	base.Subject = &Subject{Service: "payment-api"}
	base.Scan = []string{"trivy", "grype"}
	base.Vulns = &VulnCriteria{MinSeverity: "HIGH"}
	vuln := func(id, sev, status string) Exposure {
		return Exposure{Vulnerability: "Vulnerability:" + id, VulnerabilityID: id, Severity: sev, Status: status,
			Component: "pkg:npm/a@1", Artifacts: []string{newDigest}, KnownSince: collected.Add(-day)}
	}
	cases := []struct {
		name  string
		xs    []Exposure
		scans []ScanRun
		edit  func(*Spec)
		want  want
	}{
		{name: "clean", want: with(pass, func(w *want) { w.expires = collected.Add(W) })},
		{name: "high affected", xs: []Exposure{vuln("CVE-1", "HIGH", "affected")},
			want: with(failed, func(w *want) { w.culprits = []string{"Vulnerability:CVE-1"}; w.expires = collected.Add(W) })},
		{name: "no VEX statement is open", xs: []Exposure{vuln("CVE-1", "critical", "")}, want: failed},
		{name: "under_investigation is open", xs: []Exposure{vuln("CVE-1", "HIGH", "under_investigation")}, want: failed},
		{name: "VEX not_affected closes it", xs: []Exposure{vuln("CVE-1", "HIGH", "not_affected")}, want: pass},
		{name: "VEX fixed closes it", xs: []Exposure{vuln("CVE-1", "HIGH", "fixed")}, want: pass},
		{name: "below the bar", xs: []Exposure{vuln("CVE-1", "MEDIUM", "affected")}, want: pass},
		{name: "CVSS rates an unrated severity", xs: []Exposure{func() Exposure {
			x := vuln("CVE-1", "", "affected")
			x.CVSS = ptr(7.5)
			return x
		}()}, want: failed},
		{name: "low CVSS is below", xs: []Exposure{func() Exposure {
			x := vuln("CVE-1", "", "affected")
			x.CVSS = ptr(5.0)
			return x
		}()}, want: pass},
		{name: "unrated counts", xs: []Exposure{vuln("CVE-1", "", "affected")}, want: failed},
		{name: "unrated ignored on request", xs: []Exposure{vuln("CVE-1", "", "affected")},
			edit: func(s *Spec) { s.Vulns.IgnoreUnrated = true }, want: pass},
		{name: "kev only skips non-KEV", xs: []Exposure{vuln("CVE-1", "CRITICAL", "affected")},
			edit: func(s *Spec) { s.Vulns.KEVOnly = true }, want: pass},
		{name: "kev only counts KEV", xs: []Exposure{func() Exposure { x := vuln("CVE-1", "CRITICAL", "affected"); x.KEV = true; return x }()},
			edit: func(s *Spec) { s.Vulns.KEVOnly = true }, want: failed},
		{name: "epss below minimum", xs: []Exposure{func() Exposure { x := vuln("CVE-1", "HIGH", "affected"); x.EPSS = ptr(0.05); return x }()},
			edit: func(s *Spec) { s.Vulns.MinEPSS = ptr(0.1) }, want: pass},
		{name: "epss at minimum", xs: []Exposure{func() Exposure { x := vuln("CVE-1", "HIGH", "affected"); x.EPSS = ptr(0.1); return x }()},
			edit: func(s *Spec) { s.Vulns.MinEPSS = ptr(0.1) }, want: failed},
		{name: "on_fail DEGRADED", xs: []Exposure{vuln("CVE-1", "HIGH", "affected")}, edit: func(s *Spec) { s.OnFail = Degraded },
			want: want{status: assurance.Supported, reason: assurance.EvidenceDegraded, verdict: Degraded}},
		{name: "learnt after the scan's knowledge", xs: []Exposure{func() Exposure {
			x := vuln("CVE-2", "HIGH", "affected")
			x.KnownSince = collected.Add(time.Hour)
			return x
		}()}, want: with(kstale, func(w *want) { w.culprits = []string{"Vulnerability:CVE-2"} })},
		{name: "learnt at the scan's knowledge is known", xs: []Exposure{func() Exposure {
			x := vuln("CVE-2", "HIGH", "affected")
			x.KnownSince = collected
			return x
		}()}, want: failed},
		{name: "what the twin knew when the scan came in counts, whatever the scanner knew", scans: []ScanRun{func() ScanRun {
			r := scan("n", newDigest, collected)
			r.KnowledgeAsOf = collected.Add(-3 * day)
			return r
		}()}, xs: []Exposure{vuln("CVE-3", "HIGH", "affected")}, want: failed},
		{name: "a scan reporting the vulnerability it brought fails", xs: []Exposure{func() Exposure {
			x := vuln("CVE-4", "CRITICAL", "affected")
			x.KnownSince = collected.Add(-time.Second) // written by the scan's own ingest, just before the run was recorded
			return x
		}()}, want: failed},
		{name: "a later scanner knowledge covers what the twin learnt before it", scans: []ScanRun{func() ScanRun {
			r := scan("n", newDigest, collected)
			r.KnowledgeAsOf = collected.Add(2 * time.Hour)
			return r
		}()}, xs: []Exposure{func() Exposure {
			x := vuln("CVE-5", "HIGH", "affected")
			x.KnownSince = collected.Add(time.Hour)
			return x
		}()}, want: failed},
		{name: "new knowledge closed by VEX does not make it stale", xs: []Exposure{func() Exposure {
			x := vuln("CVE-2", "HIGH", "not_affected")
			x.KnownSince = collected.Add(time.Hour)
			return x
		}()}, want: pass},
		{name: "fail wins over knowledge stale, naming both", xs: []Exposure{vuln("CVE-1", "HIGH", "affected"), func() Exposure {
			x := vuln("CVE-2", "CRITICAL", "affected")
			x.KnownSince = collected.Add(time.Hour)
			return x
		}()}, want: with(failed, func(w *want) { w.culprits = []string{"Vulnerability:CVE-2", "Vulnerability:CVE-1"} })},
		{name: "stale wins over knowledge stale", scans: []ScanRun{scan("n", newDigest, now.Add(-W))}, xs: []Exposure{func() Exposure {
			x := vuln("CVE-2", "HIGH", "affected")
			x.KnownSince = now
			return x
		}()}, want: stale},
		{name: "digest change: only the old digest scanned", scans: []ScanRun{scan("o", oldDigest, collected)},
			xs: []Exposure{vuln("CVE-1", "HIGH", "fixed")}, want: changed},
		{name: "vulnerabilities of the old digest do not count", xs: []Exposure{func() Exposure {
			x := vuln("CVE-9", "CRITICAL", "affected")
			x.Artifacts = []string{oldDigest}
			return x
		}()}, want: pass},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.scans = c.scans
			if st.scans == nil {
				st.scans = []ScanRun{scan("n", newDigest, collected)}
			}
			st.exposures = c.xs
			s := base
			v := *base.Vulns
			s.Vulns = &v
			if c.edit != nil {
				c.edit(&s)
			}
			r := eval(t, st, s, now)
			check(t, r, c.want)
			if r.Verdict == Degraded {
				full := assurance.LeafConfidence(1, collected, W, now)
				if math.Abs(r.Confidence-DegradedFactor*full) > 1e-9 {
					t.Errorf("degraded confidence %v, want %v", r.Confidence, DegradedFactor*full)
				}
			}
		})
	}
}

func TestSARIFClean(t *testing.T) {
	collected := now.Add(-time.Hour)
	run := ScanRun{ID: "ScanRun:s2", Format: "sarif", Tool: "Semgrep OSS", Artifact: newDigest, Source: "sarif:s2", Collected: collected}
	finding := func(id, rule, sev, status string, sources ...string) Finding {
		if sources == nil {
			sources = []string{"sarif:s2"}
		}
		return Finding{ID: "Finding:" + id, RuleID: rule, Severity: sev, Status: status, Artifact: newDigest, Sources: sources, Tags: []string{"security"}}
	}
	cases := []struct {
		name     string
		findings []Finding
		crit     *FindingCriteria
		want     want
	}{
		{name: "clean", want: pass},
		{name: "open finding", findings: []Finding{finding("1", "go.sqli", "HIGH", "OPEN")},
			want: with(failed, func(w *want) { w.culprits = []string{"Finding:1"} })},
		{name: "fixed finding", findings: []Finding{finding("1", "go.sqli", "HIGH", "FIXED")}, want: pass},
		{name: "suppressed finding", findings: []Finding{finding("1", "go.sqli", "HIGH", "SUPPRESSED")}, want: pass},
		{name: "reported only by an older scan", findings: []Finding{finding("1", "go.sqli", "HIGH", "OPEN", "sarif:s1")}, want: pass},
		{name: "other family", findings: []Finding{finding("1", "go.style", "HIGH", "OPEN")},
			crit: &FindingCriteria{RulePrefixes: []string{"go.sqli"}}, want: pass},
		{name: "family by tag", findings: []Finding{finding("1", "go.style", "HIGH", "OPEN")},
			crit: &FindingCriteria{Tags: []string{"SECURITY"}}, want: failed},
		{name: "below severity", findings: []Finding{finding("1", "go.sqli", "LOW", "OPEN")},
			crit: &FindingCriteria{MinSeverity: "MEDIUM"}, want: pass},
		{name: "unrated counts", findings: []Finding{finding("1", "go.sqli", "", "OPEN")},
			crit: &FindingCriteria{MinSeverity: "MEDIUM"}, want: failed},
		{name: "most severe first", findings: []Finding{finding("1", "a", "LOW", "OPEN"), finding("2", "b", "CRITICAL", "OPEN")},
			want: with(failed, func(w *want) { w.culprits = []string{"Finding:2", "Finding:1"} })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.scans = []ScanRun{run, {ID: "ScanRun:s1", Format: "sarif", Tool: "Semgrep OSS", Artifact: newDigest, Source: "sarif:s1", Collected: collected.Add(-day)}}
			st.findings = c.findings
			s := spec(KindSARIFClean, 7*day)
			s.Subject = &Subject{Service: "payment-api"}
			s.Scan = []string{"sarif:semgrep"}
			s.Findings = c.crit
			check(t, eval(t, st, s, now), c.want)
		})
	}
}

func TestNoRuntimeAlerts(t *testing.T) {
	const W, within = time.Hour, 5 * time.Minute
	zone := SubjectRef{Label: LabelZone, Key: "dmz"}
	alert := func(id string, at time.Time, data string) fakeEvent {
		return fakeEvent{about: []SubjectRef{svc, zone}, ev: Event{ID: "EdgeEvent:" + id, At: at, Data: data, Site: "s1"}}
	}
	const suricata = `{"event_type":"alert","alert":{"signature":"ET SCAN"}}`
	cases := []struct {
		name     string
		events   []fakeEvent
		releases []time.Time
		alerts   AlertCriteria
		want     want
	}{
		{name: "quiet and alive", releases: []time.Time{now.Add(-time.Minute)},
			want: with(pass, func(w *want) { w.expires = now.Add(4 * time.Minute); w.onExpiry = assurance.MonitorSilent })},
		{name: "quiet but silent monitor", releases: []time.Time{now.Add(-within)}, want: silent},
		{name: "never heard from", want: silent},
		{name: "alert in window", releases: []time.Time{now}, events: []fakeEvent{alert("a", now.Add(-10*time.Minute), suricata)},
			want: with(failed, func(w *want) { w.culprits = []string{"EdgeEvent:a"}; w.expires = now.Add(50 * time.Minute) })},
		{name: "alert wins over a silent monitor", events: []fakeEvent{alert("a", now.Add(-10*time.Minute), suricata)}, want: failed},
		{name: "alert at the window's start is outside", releases: []time.Time{now}, events: []fakeEvent{alert("a", now.Add(-W), suricata)}, want: alive},
		{name: "alert just inside the window", releases: []time.Time{now}, events: []fakeEvent{alert("a", now.Add(-W+time.Nanosecond), suricata)},
			want: with(failed, func(w *want) { w.expires = now.Add(time.Nanosecond) })},
		{name: "not an alert", releases: []time.Time{now}, events: []fakeEvent{alert("a", now, `{"event_type":"flow"}`)}, want: alive},
		{name: "about another service", releases: []time.Time{now},
			events: []fakeEvent{{about: []SubjectRef{{Label: LabelService, Key: "other"}}, ev: Event{ID: "x", At: now, Data: suricata}}}, want: alive},
		{name: "dotted path and prefix", releases: []time.Time{now}, events: []fakeEvent{alert("a", now, suricata)},
			alerts: AlertCriteria{Field: "alert.signature", Kinds: []string{"et scan*"}}, want: failed},
		{name: "newest alert first", releases: []time.Time{now},
			events: []fakeEvent{alert("a", now.Add(-20*time.Minute), suricata), alert("b", now.Add(-time.Minute), suricata)},
			want: with(failed, func(w *want) {
				w.culprits = []string{"EdgeEvent:b", "EdgeEvent:a"}
				w.expires = now.Add(59 * time.Minute)
			})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.events = c.events
			for _, at := range c.releases {
				st.releases = append(st.releases, fakeRelease{site: "s1", pipeline: "suricata", at: at})
			}
			s := spec(KindNoRuntimeAlerts, W)
			s.Subject = &Subject{Service: "payment-api"}
			s.Alerts = &AlertCriteria{Field: "event_type", Kinds: []string{"alert"}}
			if c.alerts.Field != "" {
				s.Alerts = &c.alerts
			}
			s.Heartbeat = &HeartbeatSource{Site: "s1", Within: Duration(within)}
			check(t, eval(t, st, s, now), c.want)
		})
	}
}

func TestHeartbeat(t *testing.T) {
	const W = 5 * time.Minute
	cases := []struct {
		name     string
		pipeline string
		releases []fakeRelease
		want     want
	}{
		{name: "never", want: silent},
		{name: "alive", releases: []fakeRelease{{"s1", "p", now.Add(-time.Minute)}},
			want: with(pass, func(w *want) { w.expires = now.Add(4 * time.Minute); w.onExpiry = assurance.MonitorSilent })},
		{name: "just alive", releases: []fakeRelease{{"s1", "p", now.Add(-W + time.Nanosecond)}},
			want: with(pass, func(w *want) { w.expires = now.Add(time.Nanosecond); w.onExpiry = assurance.MonitorSilent })},
		{name: "silent at the boundary", releases: []fakeRelease{{"s1", "p", now.Add(-W)}}, want: silent},
		{name: "another site does not count", releases: []fakeRelease{{"s2", "p", now}}, want: silent},
		{name: "pipeline selected", pipeline: "q", releases: []fakeRelease{{"s1", "p", now}, {"s1", "q", now.Add(-time.Hour)}}, want: silent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.releases = c.releases
			s := spec(KindHeartbeat, W)
			s.Heartbeat = &HeartbeatSource{Site: "s1", Pipeline: c.pipeline}
			check(t, eval(t, st, s, now), c.want)
		})
	}
}

func TestAttestation(t *testing.T) {
	const W = 365 * day
	made := now.Add(-10 * day)
	att := func(id string, at, expires time.Time) Attestation {
		return Attestation{ID: id, GlobalID: "Attestation:" + id, Subject: svcFacts.ID, Topic: "pentest", By: "alice",
			Statement: "pen test passed", At: at, Expires: expires}
	}
	cases := []struct {
		name string
		atts []Attestation
		sel  AttestationSelector
		want want
	}{
		{name: "none", want: missing},
		{name: "valid", atts: []Attestation{att("a1", made, now.Add(day))},
			want: with(pass, func(w *want) { w.expires = now.Add(day) })},
		{name: "expired at its expiry", atts: []Attestation{att("a1", made, now)},
			want: with(stale, func(w *want) { w.culprits = []string{"Attestation:a1"} })},
		{name: "window shorter than expiry", atts: []Attestation{att("a1", now.Add(-W), now.Add(day))}, want: stale},
		{name: "window bounds expiry", atts: []Attestation{att("a1", now.Add(-W+day), now.Add(30*day))},
			want: with(pass, func(w *want) { w.expires = now.Add(day) })},
		{name: "made about the old digest", atts: []Attestation{func() Attestation {
			a := att("a1", made, now.Add(day))
			a.SubjectDigest = oldDigest
			return a
		}()}, want: with(changed, func(w *want) { w.culprits = []string{"Attestation:a1"} })},
		{name: "made about the current digest", atts: []Attestation{func() Attestation {
			a := att("a1", made, now.Add(day))
			a.SubjectDigest = newDigest
			return a
		}()}, want: pass},
		{name: "fail verdict", atts: []Attestation{func() Attestation {
			a := att("a1", made, now.Add(day))
			a.Verdict = Fail
			return a
		}()}, want: with(failed, func(w *want) { w.culprits = []string{"Attestation:a1"} })},
		{name: "newest of a topic", sel: AttestationSelector{Topic: "pentest"},
			atts: []Attestation{att("a1", made, now.Add(-day)), att("a2", made.Add(day), now.Add(day))}, want: pass},
		{name: "about something else", atts: []Attestation{func() Attestation {
			a := att("a1", made, now.Add(day))
			a.Subject = "Service:other"
			return a
		}()}, want: missing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.attestations = c.atts
			s := spec(KindAttestation, W)
			s.Subject = &Subject{Service: "payment-api"}
			s.Attestation = &AttestationSelector{ID: "a1"}
			if c.sel != (AttestationSelector{}) {
				s.Attestation = &c.sel
			}
			r := eval(t, st, s, now)
			check(t, r, c.want)
			if r.Verdict == Pass {
				if want := assurance.LeafConfidence(0.8, r.Collected, W, now); math.Abs(r.Confidence-want) > 1e-9 {
					t.Errorf("confidence %v, want %v (attestation weight 0.8)", r.Confidence, want)
				}
			}
		})
	}
}

func TestAttestationWithoutExpiryIsAnError(t *testing.T) {
	st := baseStore()
	st.attestations = []Attestation{{ID: "a1", GlobalID: "Attestation:a1", Subject: svcFacts.ID, At: now.Add(-day)}}
	s := spec(KindAttestation, 30*day)
	s.Subject = &Subject{Service: "payment-api"}
	s.Attestation = &AttestationSelector{ID: "a1"}
	r, err := Evaluate(context.Background(), st, "tw", s, now)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	check(t, r, want{status: assurance.Unknown, reason: assurance.EvidenceError, verdict: Error})
}

func TestAttestationValidate(t *testing.T) {
	ok := Attestation{ID: "a", Subject: "Service:x", At: now, Expires: now.Add(day)}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid attestation refused: %v", err)
	}
	cases := map[string]func(*Attestation){
		"expires": func(a *Attestation) { a.Expires = time.Time{} },
		"at":      func(a *Attestation) { a.At = time.Time{} },
		"id":      func(a *Attestation) { a.ID = "" },
		"subject": func(a *Attestation) { a.Subject = "" },
		"verdict": func(a *Attestation) { a.Verdict = "MAYBE" },
	}
	for field, edit := range cases {
		a := ok
		edit(&a)
		err := a.Validate()
		var ves ValidationErrors
		if !errors.As(err, &ves) || !errors.Is(err, ErrInvalid) || ves[0].Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	a := ok
	a.Expires = a.At
	if err := a.Validate(); err == nil {
		t.Error("expiry at the attestation's time accepted")
	}
}

func TestCypherCheck(t *testing.T) {
	const W = time.Hour
	readOnly := CypherPlan{StatementType: StatementReadOnly, Operators: []PlanOperator{{Name: "ProduceResults@neo4j"}, {Name: "NodeByLabelScan@neo4j"}}}
	cases := []struct {
		name   string
		plan   CypherPlan
		rows   CypherRows
		expect Expect
		want   want
		err    error
	}{
		{name: "no rows", plan: readOnly, want: with(pass, func(w *want) { w.expires = now.Add(W) })},
		{name: "rows", plan: readOnly, rows: CypherRows{Rows: 2, Culprits: []string{"Host:a", "Host:b"}},
			want: with(failed, func(w *want) { w.culprits = []string{"Host:a", "Host:b"} })},
		{name: "expect some, got some", plan: readOnly, rows: CypherRows{Rows: 1}, expect: ExpectSome, want: pass},
		{name: "expect some, got none", plan: readOnly, expect: ExpectSome, want: failed},
		{name: "write plan refused", plan: CypherPlan{StatementType: "READ_WRITE"}, err: ErrNotReadOnly,
			want: want{status: assurance.Unknown, reason: assurance.EvidenceError, verdict: Error}},
		{name: "unbounded plan refused", err: ErrUnbounded,
			plan: CypherPlan{StatementType: StatementReadOnly, Operators: []PlanOperator{{Name: "VarLengthExpand(All)@neo4j", Details: "(a)-[anon_0*]->(b)"}}},
			want: want{status: assurance.Unknown, reason: assurance.EvidenceError, verdict: Error}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := baseStore()
			st.plan, st.rows = c.plan, c.rows
			s := spec(KindCypherCheck, W)
			s.Cypher = &CypherCheck{Query: "MATCH (h:Host {twin: $twin}) WHERE h.exposed RETURN h", Expect: c.expect}
			r, err := Evaluate(context.Background(), st, "tw", s, now)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			check(t, r, c.want)
			if c.err != nil && st.ran != 0 {
				t.Error("a refused query ran")
			}
		})
	}
}

func TestAccept(t *testing.T) {
	s := spec(KindCypherCheck, time.Hour)
	s.Cypher = &CypherCheck{Query: "MATCH (h:Host {twin: $twin}) RETURN h"}
	cases := []struct {
		name string
		st   *fakeStore
		err  error
	}{
		{name: "read-only", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly}}},
		{name: "write", st: &fakeStore{plan: CypherPlan{StatementType: "WRITE_ONLY"}}, err: ErrNotReadOnly},
		{name: "load csv", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly, Operators: []PlanOperator{{Name: "LoadCSV@neo4j"}}}}, err: ErrNotReadOnly},
		{name: "procedure", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly,
			Operators: []PlanOperator{{Name: "ProcedureCall@neo4j", Details: "dbms.killQuery(x)"}}}}, err: ErrNotReadOnly},
		{name: "allowed procedure", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly,
			Operators: []PlanOperator{{Name: "ProcedureCall@neo4j", Details: "db.labels() :: (label :: STRING)"}}}}},
		{name: "bounded expansion", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly,
			Operators: []PlanOperator{{Name: "VarLengthExpand(All)@neo4j", Details: "(a)-[anon_0*..3]->(b)"}}}}},
		{name: "too long expansion", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly,
			Operators: []PlanOperator{{Name: "VarLengthExpand(All)@neo4j", Details: "(a)-[anon_0*2..50]->(b)"}}}}, err: ErrUnbounded},
		{name: "unbounded quantifier", st: &fakeStore{plan: CypherPlan{StatementType: StatementReadOnly,
			Operators: []PlanOperator{{Name: "Repeat(Trail)@neo4j", Details: "(a) ((x)-[r]->(y)){1, }"}}}}, err: ErrUnbounded},
		{name: "bad query", st: &fakeStore{cypherErr: errors.Join(ErrBadQuery, errors.New("syntax"))}, err: ErrBadQuery},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Accept(context.Background(), c.st, "tw", s)
			if c.err == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ves ValidationErrors
			if !errors.Is(err, c.err) || !errors.As(err, &ves) || ves[0].Field != "cypher.query" {
				t.Fatalf("err = %v, want ValidationErrors wrapping %v", err, c.err)
			}
		})
	}
	// A store outage is not a refusal.
	outage := errors.New("connection refused")
	err := Accept(context.Background(), &fakeStore{err: outage}, "tw", s)
	var ves ValidationErrors
	if !errors.Is(err, outage) || errors.As(err, &ves) {
		t.Fatalf("outage: %v", err)
	}
	// Other kinds need no database.
	if err := Accept(context.Background(), &fakeStore{err: outage}, "tw", validSpecs(t)[KindHeartbeat]); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
}

func TestStoreErrorIsEvidenceError(t *testing.T) {
	outage := errors.New("neo4j down")
	for kind, s := range validSpecs(t) {
		r, err := Evaluate(context.Background(), &fakeStore{err: outage}, "tw", s, now)
		if !errors.Is(err, outage) {
			t.Errorf("%s: err = %v", kind, err)
		}
		check(t, r, want{status: assurance.Unknown, reason: assurance.EvidenceError, verdict: Error})
		if r.Kind != kind {
			t.Errorf("%s: kind %q", kind, r.Kind)
		}
	}
	// An invalid spec too.
	r, err := Evaluate(context.Background(), baseStore(), "tw", Spec{Kind: KindHeartbeat}, now)
	if !errors.Is(err, ErrInvalid) || r.Reason != assurance.EvidenceError {
		t.Fatalf("invalid spec: %v, %v", r.Reason, err)
	}
}

func TestCulpritsCapped(t *testing.T) {
	st := baseStore()
	st.scans = []ScanRun{scan("n", newDigest, now.Add(-time.Hour))}
	for i := range MaxCulprits + 5 {
		id := "CVE-" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		st.exposures = append(st.exposures, Exposure{Vulnerability: "Vulnerability:" + id, VulnerabilityID: id, Severity: "HIGH", Artifacts: []string{newDigest}})
	}
	s := spec(KindNoOpenVulns, day)
	s.Subject = &Subject{Service: "payment-api"}
	s.Scan = []string{"trivy"}
	s.Vulns = &VulnCriteria{MinSeverity: "high"}
	r := eval(t, st, s, now)
	if len(r.Culprits) != MaxCulprits || r.Omitted != 5 {
		t.Fatalf("%d culprits, %d omitted", len(r.Culprits), r.Omitted)
	}
}

func TestLeafResult(t *testing.T) {
	r := Result{Status: assurance.Supported, Reason: assurance.EvidenceDegraded, Culprits: []string{"a"}, Confidence: 0.4,
		Expires: now.Add(time.Hour), OnExpiry: assurance.MonitorSilent}
	lr := r.LeafResult()
	if lr.Reason != r.Reason || !slices.Equal(lr.Culprits, r.Culprits) || lr.Confidence != 0.4 ||
		!lr.Expires.Equal(r.Expires) || lr.OnExpiry != assurance.MonitorSilent || lr.Status != 0 {
		t.Fatalf("LeafResult = %+v", lr)
	}
	lr.Culprits[0] = "changed"
	if r.Culprits[0] != "a" {
		t.Fatal("LeafResult shares its culprits")
	}
	leaves := Leaves(map[string]Result{"Sn1": r})
	if len(leaves) != 1 || leaves["Sn1"].Reason != assurance.EvidenceDegraded {
		t.Fatalf("Leaves = %+v", leaves)
	}
}

// TestHeartbeatExpiry: a PASS says when it turns MONITOR_SILENT, and evaluating then agrees;
// the status each result carries is the one its reason implies.
func TestHeartbeatExpiry(t *testing.T) {
	st := baseStore()
	st.releases = []fakeRelease{{site: "edge-1", at: now.Add(-time.Minute)}}
	hb := validSpecs(t)[KindHeartbeat]
	alive := eval(t, st, hb, now)
	stale := eval(t, st, hb, now.Add(time.Hour))
	for _, r := range []Result{alive, stale} {
		if got := statusOf(r.LeafResult().Reason); got != r.Status {
			t.Errorf("status %v, reason implies %v", r.Status, got)
		}
	}
	if alive.Status != assurance.Supported || stale.Reason != assurance.MonitorSilent {
		t.Fatalf("alive %v, later %v", alive.Status, stale.Reason)
	}
	if !alive.Expires.Equal(now.Add(4*time.Minute)) || alive.OnExpiry != assurance.MonitorSilent {
		t.Fatalf("expiry %v %v", alive.Expires, alive.OnExpiry)
	}
}
