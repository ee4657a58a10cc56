package osv

import (
	"cmp"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/sectwin/sectwin/ingest/internal/purl"
)

// Affects decides whether version of the component with this purl is affected by a.
//
// purl names the component; its version is used when version is empty. An empty purl skips
// the package check (the caller knows the component is a's package). A purl naming another
// package is not affected, certainly: ok is true. Packages match on purl type, namespace and
// name (qualifiers aside); a distribution package also matches by the upstream qualifier syft
// writes (the source package OSV names), and when both a's ecosystem ("Alpine:v3.18",
// "Debian:12", "Ubuntu:22.04:LTS") and the purl's distro qualifier ("alpine-3.18.4") give a
// release, they must agree.
//
// The version is affected when the record lists it in versions, or when it falls in a range:
// events are sorted by the range's ordering and swept as the OSV specification says
// (introduced opens, fixed closes at the fixed version, last_affected just after it). SEMVER
// ranges use semantic versioning; ECOSYSTEM ranges the ecosystem's ordering where it is known
// (semver for Go, npm, crates.io, Hex, Pub…; PEP 440 for PyPI; dpkg for Debian and Ubuntu; apk
// for Alpine, Wolfi and Chainguard; rpm for Red Hat, Rocky, AlmaLinux, SUSE…), else a generic
// one: dotted numeric segments, pre-release words (dev, alpha, beta, milestone, rc, snapshot)
// before the release and post-release words (post, patch, sp, a bare letter: 1.0.2q) after it.
// The generic ordering is best-effort: it orders most schemes right, but it is not Maven's,
// RubyGems' or NuGet's exact rules.
//
// fixed is the earliest fixed version of a range that includes the version, when the record
// gives one. ok is false when the answer cannot be known: a purl or a record package that
// cannot be read, no version, a GIT range (unless the record also enumerates versions, which is
// how OSV resolves GIT ranges), a range of unknown type, or a version the ordering cannot read.
// A version found affected is affected even when another range could not be decided.
func Affects(a Affected, purl, version string) (affected bool, fixed string, ok bool) {
	version = strings.TrimSpace(version)
	if strings.TrimSpace(purl) != "" {
		same, known, pv := samePackage(a, purl)
		if !known {
			return false, "", false
		}
		if !same {
			return false, "", true
		}
		if version == "" {
			version = pv
		}
	}
	if version == "" {
		return false, "", false
	}
	eco := ecosystemBase(a.Ecosystem)
	undecided := false
	for _, v := range a.Versions {
		if v == version {
			affected = true
			break
		}
		if cmp, known := ordering("ECOSYSTEM", eco); known {
			if c, ok := cmp(v, version); ok && c == 0 {
				affected = true
				break
			}
		}
	}
	for _, r := range a.Ranges {
		if r.Type == "GIT" && len(a.Versions) > 0 {
			continue // enumerated in versions
		}
		cmp, known := ordering(r.Type, eco)
		if !known {
			undecided = true
			continue
		}
		in, fix, ok := inRange(cmp, r.Events, version)
		if !ok {
			undecided = true
			continue
		}
		if in {
			affected = true
			if fix != "" {
				if c, _ := cmp(fix, fixed); fixed == "" || c < 0 {
					fixed = fix
				}
			}
		}
	}
	if affected {
		return true, fixed, true
	}
	return false, "", !undecided
}

// comparator orders two versions; ok is false when either cannot be read.
type comparator func(a, b string) (c int, ok bool)

// inRange sweeps a range's events for version v.
func inRange(cmp comparator, events []Event, v string) (in bool, fixed string, ok bool) {
	type ev struct {
		kind int // 0 introduced, 1 fixed, 2 last_affected
		ver  string
	}
	var evs []ev
	for _, e := range events {
		switch {
		case e.Introduced != "":
			evs = append(evs, ev{0, e.Introduced})
		case e.Fixed != "":
			evs = append(evs, ev{1, e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, ev{2, e.LastAffected})
		}
		// limit only bounds GIT ranges.
	}
	if _, ok := cmp(v, v); !ok {
		return false, "", false
	}
	for _, e := range evs {
		if e.kind == 0 && e.ver == "0" {
			continue
		}
		if _, ok := cmp(e.ver, v); !ok {
			return false, "", false
		}
	}
	zero := func(e ev) bool { return e.kind == 0 && e.ver == "0" }
	slices.SortStableFunc(evs, func(x, y ev) int {
		switch {
		case zero(x) && zero(y):
			return 0
		case zero(x):
			return -1
		case zero(y):
			return 1
		}
		if c, _ := cmp(x.ver, y.ver); c != 0 {
			return c
		}
		return x.kind - y.kind // introduced first at the same version
	})
	at := -1 // the introduced event that opened the interval v is in
	for i, e := range evs {
		var c int
		if !zero(e) {
			c, _ = cmp(v, e.ver)
		}
		switch {
		case e.kind == 0 && (zero(e) || c >= 0):
			in, at = true, i
		case e.kind == 1 && c >= 0, e.kind == 2 && c > 0:
			in = false
		}
	}
	if !in {
		return false, "", true
	}
	for _, e := range evs[at+1:] {
		if e.kind == 0 {
			break
		}
		if e.kind == 1 {
			return true, e.ver, true
		}
		if e.kind == 2 {
			break
		}
	}
	return true, "", true
}

// ecosystemBase is the ecosystem without its release: "Alpine:v3.18" → "alpine".
func ecosystemBase(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	return strings.ToLower(strings.TrimSpace(base))
}

// ordering picks the comparator of a range type and ecosystem (as ecosystemBase gives it);
// known is false for GIT and unknown range types.
func ordering(rangeType, eco string) (comparator, bool) {
	switch rangeType {
	case "SEMVER":
		return compareSemver, true
	case "ECOSYSTEM":
	default:
		return nil, false
	}
	switch eco {
	case "go", "npm", "crates.io", "hex", "pub", "swifturl", "bitnami", "github actions":
		return compareSemver, true
	case "pypi":
		return comparePEP440, true
	case "debian", "ubuntu":
		return compareDpkg, true
	case "alpine", "wolfi", "chainguard", "alpaquita", "bellsoft hardened containers":
		return compareApk, true
	case "red hat", "rocky linux", "almalinux", "suse", "opensuse", "photon os", "mageia", "openeuler",
		"azure linux", "cbl-mariner", "openmandriva", "fedora", "oracle linux", "amazon linux":
		return compareRpm, true
	}
	return compareGeneric, true
}

// ecosystemTypes maps OSV ecosystems (lower case, without release) to purl types and, for
// distributions, namespaces.
var ecosystemTypes = map[string][2]string{
	"npm": {"npm"}, "pypi": {"pypi"}, "go": {"golang"}, "maven": {"maven"}, "crates.io": {"cargo"},
	"nuget": {"nuget"}, "rubygems": {"gem"}, "packagist": {"composer"}, "hex": {"hex"}, "pub": {"pub"},
	"hackage": {"hackage"}, "cran": {"cran"}, "swifturl": {"swift"}, "conancenter": {"conan"},
	"bitnami": {"bitnami"}, "github actions": {"github"}, "julia": {"julia"},
	"debian": {"deb", "debian"}, "ubuntu": {"deb", "ubuntu"},
	"alpine": {"apk", "alpine"}, "wolfi": {"apk", "wolfi"}, "chainguard": {"apk", "chainguard"},
	"red hat": {"rpm", "redhat"}, "rocky linux": {"rpm", "rocky-linux"}, "almalinux": {"rpm", "almalinux"},
	"suse": {"rpm", "suse"}, "opensuse": {"rpm", "opensuse"}, "photon os": {"rpm", "photon"},
	"mageia": {"rpm", "mageia"}, "openeuler": {"rpm", "openeuler"}, "azure linux": {"rpm", "azurelinux"},
}

// ecosystemPurl makes the versionless purl of a package from its OSV ecosystem and name, the
// way osv.dev does; "" for an ecosystem without a purl type.
func ecosystemPurl(eco, name string) string {
	t, ok := ecosystemTypes[ecosystemBase(eco)]
	if !ok || name == "" {
		return ""
	}
	ns, n := t[1], name
	switch t[0] {
	case "maven":
		if g, art, ok := strings.Cut(name, ":"); ok {
			ns, n = g, art
		}
	case "npm", "golang", "composer", "swift", "github":
		if i := strings.LastIndexByte(name, '/'); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	}
	out, err := purl.Normalize(packageurl.NewPackageURL(t[0], ns, n, "", nil, "").ToString())
	if err != nil {
		return ""
	}
	return out
}

// rpmNamespaces are spellings of the same distribution in rpm purls.
var rpmNamespaces = map[string]string{"rhel": "redhat", "rocky": "rocky-linux", "alma": "almalinux", "sles": "suse"}

// samePackage reports whether the component purl names a's package; known is false when that
// cannot be told. version is the component purl's version.
func samePackage(a Affected, component string) (same, known bool, version string) {
	n, err := purl.Normalize(component)
	if err != nil || a.Purl == "" {
		return false, false, ""
	}
	p, err := packageurl.FromString(n)
	if err != nil {
		return false, false, ""
	}
	ap, err := packageurl.FromString(a.Purl)
	if err != nil {
		return false, false, ""
	}
	version = p.Version
	if p.Type != ap.Type {
		return false, true, version
	}
	ns, ans := strings.ToLower(p.Namespace), strings.ToLower(ap.Namespace)
	if p.Type == "rpm" {
		ns, ans = cmp.Or(rpmNamespaces[ns], ns), cmp.Or(rpmNamespaces[ans], ans)
	}
	if ns != ans {
		return false, true, version
	}
	q := p.Qualifiers.Map()
	nameOK := p.Name == ap.Name
	if !nameOK && (p.Type == "deb" || p.Type == "rpm" || p.Type == "apk") {
		up, _, _ := strings.Cut(q["upstream"], "@")
		up, _, _ = strings.Cut(up, " ")
		nameOK = up != "" && up == ap.Name
	}
	if !nameOK {
		return false, true, version
	}
	if rel := ecosystemRelease(a.Ecosystem); rel != "" {
		if d := distroRelease(q["distro"]); d != "" && d != rel && !strings.HasPrefix(d, rel+".") {
			return false, true, version
		}
	}
	return true, true, version
}

// ecosystemRelease is the first part after the ecosystem's name that starts with a digit:
// "Alpine:v3.18" → "3.18", "Ubuntu:Pro:14.04:LTS" → "14.04"; "" when there is none.
func ecosystemRelease(eco string) string {
	parts := strings.Split(eco, ":")
	for _, p := range parts[1:] {
		p = strings.TrimPrefix(strings.TrimSpace(p), "v")
		if p != "" && p[0] >= '0' && p[0] <= '9' {
			return p
		}
	}
	return ""
}

// distroRelease reads the release of a distro qualifier: "alpine-3.18.4" → "3.18.4",
// "debian-12" → "12"; "" when it names none (a code name).
func distroRelease(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.LastIndexByte(q, '-'); i >= 0 {
		q = q[i+1:]
	}
	q = strings.TrimPrefix(q, "v")
	if q == "" || q[0] < '0' || q[0] > '9' {
		return ""
	}
	return q
}
