package osv

// Version orderings of the ecosystems Affects knows, and the generic one for the others. Each
// comparator reports ok false when it cannot read a version.

import (
	"cmp"
	"regexp"
	"strings"
)

// maxVersionLen bounds the versions compared: longer ones are not versions.
const maxVersionLen = 256

// cmpNum compares two strings of decimal digits by value, however long.
func cmpNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// Semantic versioning 2.0, read leniently: a leading v, and missing minor or patch numbers
// (taken as 0), are accepted; build metadata is ignored.

type semver struct {
	nums [3]string
	pre  []string
}

func parseSemver(s string) (semver, bool) {
	var v semver
	s = strings.TrimSpace(s)
	if len(s) > maxVersionLen {
		return v, false
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	main, pre, hasPre := strings.Cut(s, "-")
	parts := strings.Split(main, ".")
	if len(parts) > 3 {
		return v, false
	}
	for i := range v.nums {
		v.nums[i] = "0"
		if i < len(parts) {
			if !allDigits(parts[i]) {
				return v, false
			}
			v.nums[i] = parts[i]
		}
	}
	if hasPre {
		v.pre = strings.Split(pre, ".")
		for _, id := range v.pre {
			if id == "" {
				return v, false
			}
			for j := range len(id) {
				if c := id[j]; !isDigit(c) && !isAlpha(c) && c != '-' {
					return v, false
				}
			}
		}
	}
	return v, true
}

func compareSemver(a, b string) (int, bool) {
	va, ok1 := parseSemver(a)
	vb, ok2 := parseSemver(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	for i := range va.nums {
		if c := cmpNum(va.nums[i], vb.nums[i]); c != 0 {
			return c, true
		}
	}
	switch {
	case len(va.pre) == 0 && len(vb.pre) == 0:
		return 0, true
	case len(va.pre) == 0:
		return 1, true
	case len(vb.pre) == 0:
		return -1, true
	}
	for i := 0; i < len(va.pre) && i < len(vb.pre); i++ {
		x, y := va.pre[i], vb.pre[i]
		xn, yn := allDigits(x), allDigits(y)
		var c int
		switch {
		case xn && yn:
			c = cmpNum(x, y)
		case xn:
			c = -1
		case yn:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c, true
		}
	}
	return sign(len(va.pre) - len(vb.pre)), true
}

// PEP 440 (https://packaging.python.org/en/latest/specifications/version-specifiers/), with
// its normalisations (alpha → a, c/pre/preview → rc, rev/r → post, 1.0-1 → 1.0.post1).

var pep440 = regexp.MustCompile(`^v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)` +
	`(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?` +
	`(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?` +
	`(?:[-_.]?(dev)[-_.]?([0-9]+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

type pepVersion struct {
	epoch   string
	release []string
	pre     int // -1 none; 0 a, 1 b, 2 rc
	preN    string
	post    bool
	postN   string
	dev     bool
	devN    string
	local   []string
}

func parsePEP440(s string) (pepVersion, bool) {
	var v pepVersion
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > maxVersionLen {
		return v, false
	}
	m := pep440.FindStringSubmatch(s)
	if m == nil {
		return v, false
	}
	v.epoch = cmp.Or(m[1], "0")
	v.release = strings.Split(m[2], ".")
	for len(v.release) > 1 && strings.TrimLeft(v.release[len(v.release)-1], "0") == "" {
		v.release = v.release[:len(v.release)-1]
	}
	v.pre = -1
	switch m[3] {
	case "a", "alpha":
		v.pre = 0
	case "b", "beta":
		v.pre = 1
	case "rc", "c", "pre", "preview":
		v.pre = 2
	}
	v.preN = cmp.Or(m[4], "0")
	if m[5] != "" || m[6] != "" {
		v.post, v.postN = true, cmp.Or(m[5], m[7], "0")
	}
	if m[8] != "" {
		v.dev, v.devN = true, cmp.Or(m[9], "0")
	}
	if m[10] != "" {
		v.local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '.' || r == '-' || r == '_' })
	}
	return v, true
}

func comparePEP440(a, b string) (int, bool) {
	x, ok1 := parsePEP440(a)
	y, ok2 := parsePEP440(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if c := cmpNum(x.epoch, y.epoch); c != 0 {
		return c, true
	}
	for i := 0; i < len(x.release) || i < len(y.release); i++ {
		xs, ys := "0", "0"
		if i < len(x.release) {
			xs = x.release[i]
		}
		if i < len(y.release) {
			ys = y.release[i]
		}
		if c := cmpNum(xs, ys); c != 0 {
			return c, true
		}
	}
	// Pre-release: a dev release of the release itself (1.0.dev1) sorts before its pre-releases;
	// no pre-release sorts after them.
	preKey := func(v pepVersion) (int, string) {
		switch {
		case v.pre < 0 && !v.post && v.dev:
			return -2, "0"
		case v.pre < 0:
			return 3, "0"
		}
		return v.pre, v.preN
	}
	xp, xn := preKey(x)
	yp, yn := preKey(y)
	if c := sign(xp - yp); c != 0 {
		return c, true
	}
	if c := cmpNum(xn, yn); c != 0 {
		return c, true
	}
	if x.post != y.post {
		if x.post {
			return 1, true
		}
		return -1, true
	}
	if c := cmpNum(x.postN, y.postN); x.post && c != 0 {
		return c, true
	}
	if x.dev != y.dev {
		if x.dev {
			return -1, true
		}
		return 1, true
	}
	if c := cmpNum(x.devN, y.devN); x.dev && c != 0 {
		return c, true
	}
	// Local versions sort after the public one; their segments compare numbers above words.
	for i := 0; i < len(x.local) && i < len(y.local); i++ {
		xs, ys := x.local[i], y.local[i]
		xd, yd := allDigits(xs), allDigits(ys)
		var c int
		switch {
		case xd && yd:
			c = cmpNum(xs, ys)
		case xd:
			c = 1
		case yd:
			c = -1
		default:
			c = strings.Compare(xs, ys)
		}
		if c != 0 {
			return c, true
		}
	}
	return sign(len(x.local) - len(y.local)), true
}

// Debian's ordering (deb-version(7)): [epoch:]upstream[-revision], compared with dpkg's
// verrevcmp, where ~ sorts before anything, even the end.

func splitDpkg(s string) (epoch, upstream, revision string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxVersionLen {
		return "", "", "", false
	}
	epoch = "0"
	if e, rest, found := strings.Cut(s, ":"); found {
		if !allDigits(e) {
			return "", "", "", false
		}
		epoch, s = e, rest
	}
	upstream = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		upstream, revision = s[:i], s[i+1:]
	}
	if upstream == "" {
		return "", "", "", false
	}
	for i := range len(s) {
		c := s[i]
		if !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".+-~:_", rune(c)) {
			return "", "", "", false
		}
	}
	return epoch, upstream, revision, true
}

func dpkgOrder(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

func verrevcmp(a, b string) int {
	i, j := 0, 0
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	for i < len(a) || j < len(b) {
		for i < len(a) && !isDigit(a[i]) || j < len(b) && !isDigit(b[j]) {
			ac, bc := dpkgOrder(at(a, i)), dpkgOrder(at(b, j))
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			return sign(first)
		}
	}
	return 0
}

func compareDpkg(a, b string) (int, bool) {
	ea, ua, ra, ok1 := splitDpkg(a)
	eb, ub, rb, ok2 := splitDpkg(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if c := cmpNum(ea, eb); c != 0 {
		return c, true
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c, true
	}
	return verrevcmp(ra, rb), true
}

// RPM's ordering: [epoch:]version[-release], each compared with rpmvercmp (alphanumeric
// segments, numbers above letters, ~ before anything, ^ after the end). A release missing on
// one side is not compared.

func splitRpm(s string) (epoch, version, release string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxVersionLen {
		return "", "", "", false
	}
	epoch = "0"
	if e, rest, found := strings.Cut(s, ":"); found {
		if !allDigits(e) {
			return "", "", "", false
		}
		epoch, s = e, rest
	}
	version = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		version, release = s[:i], s[i+1:]
	}
	return epoch, version, release, version != ""
}

func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	alnum := func(c byte) bool { return isDigit(c) || isAlpha(c) }
	for i < len(a) || j < len(b) {
		for i < len(a) && !alnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !alnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ta, tb := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if ta || tb {
			if !ta {
				return 1
			}
			if !tb {
				return -1
			}
			i++
			j++
			continue
		}
		ca, cb := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ca || cb {
			switch {
			case i >= len(a):
				return -1
			case j >= len(b):
				return 1
			case !ca:
				return 1
			case !cb:
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		num := isDigit(a[i])
		if num {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		x, y := a[si:i], b[sj:j]
		if y == "" { // segments of different kinds: numbers are newer
			if num {
				return 1
			}
			return -1
		}
		var c int
		if num {
			c = cmpNum(x, y)
		} else {
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

func compareRpm(a, b string) (int, bool) {
	ea, va, ra, ok1 := splitRpm(a)
	eb, vb, rb, ok2 := splitRpm(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if c := cmpNum(ea, eb); c != 0 {
		return c, true
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c, true
	}
	if ra == "" || rb == "" {
		return 0, true
	}
	return rpmvercmp(ra, rb), true
}

// Alpine's ordering (apk-tools): numbers[.numbers…][letter][_suffix[number]…][-rrevision];
// suffixes _alpha, _beta, _pre, _rc sort before the release, _cvs, _svn, _git, _hg, _p after.

var apkVersion = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*)(?:-r([0-9]+))?$`)

var apkSuffixRank = map[string]int{"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}

type apkVer struct {
	nums     []string
	letter   string
	suffixes [][2]string // rank (as a word) and number
	rev      string
}

func parseApk(s string) (apkVer, bool) {
	var v apkVer
	s = strings.TrimSpace(s)
	if len(s) > maxVersionLen {
		return v, false
	}
	m := apkVersion.FindStringSubmatch(s)
	if m == nil {
		return v, false
	}
	v.nums = strings.Split(m[1], ".")
	v.letter = m[2]
	for suf := range strings.SplitSeq(strings.TrimPrefix(m[3], "_"), "_") {
		if suf == "" {
			continue
		}
		w := strings.TrimRight(suf, "0123456789")
		v.suffixes = append(v.suffixes, [2]string{w, cmp.Or(suf[len(w):], "0")})
	}
	v.rev = cmp.Or(m[4], "0")
	return v, true
}

func compareApk(a, b string) (int, bool) {
	x, ok1 := parseApk(a)
	y, ok2 := parseApk(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	for i := 0; i < len(x.nums) && i < len(y.nums); i++ {
		if c := cmpNum(x.nums[i], y.nums[i]); c != 0 {
			return c, true
		}
	}
	if c := sign(len(x.nums) - len(y.nums)); c != 0 {
		return c, true
	}
	if c := strings.Compare(x.letter, y.letter); c != 0 {
		return c, true
	}
	for i := 0; i < len(x.suffixes) || i < len(y.suffixes); i++ {
		xr, yr := 0, 0
		xn, yn := "0", "0"
		if i < len(x.suffixes) {
			xr, xn = apkSuffixRank[x.suffixes[i][0]], x.suffixes[i][1]
		}
		if i < len(y.suffixes) {
			yr, yn = apkSuffixRank[y.suffixes[i][0]], y.suffixes[i][1]
		}
		if c := sign(xr - yr); c != 0 {
			return c, true
		}
		if c := cmpNum(xn, yn); c != 0 {
			return c, true
		}
	}
	return cmpNum(x.rev, y.rev), true
}

// The generic ordering: an optional epoch ("2:"), then numbers and words split at separators
// and at changes between digits and letters; build metadata (+…) is ignored. Trailing zeros of
// the leading release numbers do not count (1.0 = 1.0.0). Numbers compare by value and sort
// above words; words sort by rank (below), then alphabetically; a version that ends where the
// other goes on compares the rest with the release: further numbers above zero and
// post-release words make it newer, pre-release words older.

type gtok struct {
	s   string
	num bool
	// rank of a word: pre-release words below 0, release words 0, post-release words above.
	rank int
}

var wordRank = map[string]int{
	"dev": -60, "alpha": -50, "a": -50, "beta": -40, "b": -40, "milestone": -30, "m": -30,
	"rc": -20, "cr": -20, "c": -20, "pre": -20, "preview": -20, "snapshot": -10,
	"final": 0, "ga": 0, "release": 0, "rel": 0, "stable": 0,
	"post": 10, "p": 10, "patch": 10, "pl": 10, "sp": 10, "r": 10, "rev": 10,
}

// unknownWordRank places words the ordering does not know among the pre-releases, as semver
// does with any pre-release label.
const unknownWordRank = -25

// letterRank places a bare letter after a number (1.0.2q) after the release.
const letterRank = 5

func genericTokens(s string) (epoch string, toks []gtok, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxVersionLen {
		return "", nil, false
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	epoch = "0"
	if e, rest, found := strings.Cut(s, ":"); found && allDigits(e) {
		epoch, s = e, rest
	}
	if len(s) > 1 && s[0] == 'v' && isDigit(s[1]) {
		s = s[1:]
	}
	hasNum := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			toks = append(toks, gtok{s: s[i:j], num: true})
			hasNum = true
			i = j
		case isAlpha(c):
			j := i
			for j < len(s) && isAlpha(s[j]) {
				j++
			}
			w := s[i:j]
			r, known := wordRank[w]
			attached := i > 0 && isDigit(s[i-1])
			followed := j < len(s) && isDigit(s[j])
			switch {
			case attached && len(w) == 1 && !followed:
				r = letterRank // a bare letter after a number: 1.0.2q is after 1.0.2
			case !known:
				r = unknownWordRank
			}
			toks = append(toks, gtok{s: w, rank: r})
			i = j
		default:
			i++
		}
	}
	if !hasNum {
		return "", nil, false
	}
	// Drop trailing zeros of the leading numbers.
	lead := 0
	for lead < len(toks) && toks[lead].num {
		lead++
	}
	end := lead
	for end > 1 && strings.TrimLeft(toks[end-1].s, "0") == "" {
		end--
	}
	toks = append(toks[:end:end], toks[lead:]...)
	return epoch, toks, true
}

func compareGeneric(a, b string) (int, bool) {
	ea, x, ok1 := genericTokens(a)
	eb, y, ok2 := genericTokens(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if c := cmpNum(ea, eb); c != 0 {
		return c, true
	}
	// rest compares a token with the end of the other version: its sign says which is newer.
	rest := func(t gtok) int {
		if t.num {
			if strings.TrimLeft(t.s, "0") == "" {
				return 0
			}
			return 1
		}
		return sign(t.rank)
	}
	for i := 0; i < len(x) || i < len(y); i++ {
		var c int
		switch {
		case i >= len(y):
			c = rest(x[i])
		case i >= len(x):
			c = -rest(y[i])
		case x[i].num && y[i].num:
			c = cmpNum(x[i].s, y[i].s)
		case x[i].num:
			c = 1
		case y[i].num:
			c = -1
		default:
			c = sign(x[i].rank - y[i].rank)
			if r := x[i].rank; c == 0 && (r == unknownWordRank || r == letterRank) {
				c = strings.Compare(x[i].s, y[i].s) // known words of one rank are synonyms
			}
		}
		if c != 0 {
			return c, true
		}
	}
	return 0, true
}
