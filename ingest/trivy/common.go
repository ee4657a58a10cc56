package trivy

// This file is kept identical in ingest/sarif, ingest/trivy and ingest/grype (but for the package
// clause): the three parsers may not import one another, and what they share is small. It
// assembles a graph.Batch without duplicate node keys or dangling edges, collects warnings, and
// holds the normalisation every scanner format needs (severities, vulnerability ids, JSON
// errors, numbers that arrive as strings).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
)

// Limits of graph validation (graph/write.go), kept here so that a parsed batch always passes it.
const (
	maxKeyLen    = 2048
	maxStringLen = 64 << 10
	maxListLen   = 1000
	// maxWarningsPerKind bounds the warnings of one kind; the rest are summed up in one more.
	maxWarningsPerKind = 20
)

// builder assembles a Document's batch: nodes are merged by natural key, edges by type and
// endpoints, and an edge is only added between nodes already in the batch.
type builder struct {
	batch     graph.Batch
	nodeAt    map[graph.NodeRef]int
	edgeAt    map[edgeKey]int
	comps     []string
	compSeen  map[string]bool
	warnings  []ingest.Warning
	warnKinds map[string]int
	warnOrder []string
}

type edgeKey struct {
	typ      string
	from, to graph.NodeRef
}

func newBuilder() *builder {
	return &builder{
		nodeAt:    map[graph.NodeRef]int{},
		edgeAt:    map[edgeKey]int{},
		compSeen:  map[string]bool{},
		warnKinds: map[string]int{},
	}
}

// warn records a tolerated deviation. kind groups warnings of one sort: past maxWarningsPerKind
// of a kind, they are only counted.
func (b *builder) warn(kind, path, msg string, args ...any) {
	if b.warnKinds[kind] == 0 {
		b.warnOrder = append(b.warnOrder, kind)
	}
	b.warnKinds[kind]++
	if b.warnKinds[kind] <= maxWarningsPerKind {
		b.warnings = append(b.warnings, ingest.Warning{Path: path, Message: fmt.Sprintf(msg, args...)})
	}
}

// finish returns the warnings, with one line for each kind that was cut short.
func (b *builder) finish() []ingest.Warning {
	out := b.warnings
	for _, k := range b.warnOrder {
		if n := b.warnKinds[k]; n > maxWarningsPerKind {
			out = append(out, ingest.Warning{Message: fmt.Sprintf("%d more warnings of this kind: %s", n-maxWarningsPerKind, k)})
		}
	}
	return out
}

// validKey reports whether a natural key can be written.
func validKey(key string) bool {
	return key != "" && len(key) <= maxKeyLen && utf8.ValidString(key)
}

// has reports whether the batch holds a node.
func (b *builder) has(label, key string) bool {
	_, ok := b.nodeAt[graph.NodeRef{Label: label, Key: key}]
	return ok
}

// node adds a node or merges props into the node already there. It reports false, with a
// warning, when the key cannot be written.
func (b *builder) node(path, label, key string, props map[string]any) bool {
	if !validKey(key) {
		b.warn("unusable key", path, "%s key %q is empty, longer than %d bytes or not UTF-8; skipped", label, clip(key, 80), maxKeyLen)
		return false
	}
	props = b.clean(path, props)
	ref := graph.NodeRef{Label: label, Key: key}
	if i, ok := b.nodeAt[ref]; ok {
		mergeProps(b.batch.Nodes[i].Props, props)
		return true
	}
	b.nodeAt[ref] = len(b.batch.Nodes)
	b.batch.Nodes = append(b.batch.Nodes, graph.NodeRow{Label: label, Key: key, Props: props})
	return true
}

// component adds a Component and lists its purl among the document's components.
func (b *builder) component(path, purl string, props map[string]any) bool {
	if !b.node(path, graph.LabelComponent, purl, props) {
		return false
	}
	if !b.compSeen[purl] {
		b.compSeen[purl] = true
		b.comps = append(b.comps, purl)
	}
	return true
}

// edge adds a relationship between two nodes of the batch, merging props into an edge already
// there. It reports false when an endpoint is not in the batch.
func (b *builder) edge(path, typ string, from, to graph.NodeRef, props map[string]any) bool {
	if _, ok := b.nodeAt[from]; !ok {
		return false
	}
	if _, ok := b.nodeAt[to]; !ok {
		return false
	}
	props = b.clean(path, props)
	k := edgeKey{typ, from, to}
	if i, ok := b.edgeAt[k]; ok {
		mergeProps(b.batch.Edges[i].Props, props)
		return true
	}
	b.edgeAt[k] = len(b.batch.Edges)
	b.batch.Edges = append(b.batch.Edges, graph.EdgeRow{Type: typ, From: from, To: to, Props: props})
	return true
}

// clean drops empty values and bounds strings and lists to what validation accepts.
func (b *builder) clean(path string, props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		switch x := v.(type) {
		case nil:
			continue
		case string:
			if x == "" {
				continue
			}
			if len(x) > maxStringLen {
				b.warn("long string", path, "%s is %d bytes long; cut to %d", k, len(x), maxStringLen)
				x = clip(x, maxStringLen)
			}
			if !utf8.ValidString(x) {
				x = strings.ToValidUTF8(x, "\uFFFD")
			}
			out[k] = x
		case []string:
			x = compact(x)
			if len(x) == 0 {
				continue
			}
			if len(x) > maxListLen {
				b.warn("long list", path, "%s has %d items; kept the first %d", k, len(x), maxListLen)
				x = x[:maxListLen]
			}
			out[k] = x
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			out[k] = x
		default:
			out[k] = v
		}
	}
	return out
}

// mergeProps merges what another mention of a node or edge says into what the batch holds:
// what is missing is filled in, lists are joined, the higher severity, CVSS score and EPSS win,
// and kev is true when any mention says so.
func mergeProps(dst, src map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		if k == "cvssScore" || k == "cvssVector" {
			continue // a pair, below
		}
		v := src[k]
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		switch k {
		case "severity":
			ns, _ := v.(string)
			olds, _ := old.(string)
			if severityRank(ns) > severityRank(olds) {
				dst[k] = v
			}
		case "status":
			if v == "OPEN" { // a finding open anywhere is open
				dst[k] = v
			}
		case "epss":
			nf, _ := v.(float64)
			of, _ := old.(float64)
			dst[k] = max(nf, of)
		case "kev":
			nb, _ := v.(bool)
			ob, _ := old.(bool)
			dst[k] = nb || ob
		default:
			ol, oldList := old.([]string)
			nl, newList := v.([]string)
			if oldList && newList {
				dst[k] = capList(compact(append(slices.Clone(ol), nl...)))
			}
		}
	}
	nsc, hasNew := src["cvssScore"].(float64)
	osc, hasOld := dst["cvssScore"].(float64)
	switch {
	case hasNew && (!hasOld || nsc > osc):
		dst["cvssScore"] = nsc
		delete(dst, "cvssVector")
		if vec, ok := src["cvssVector"]; ok {
			dst["cvssVector"] = vec
		}
	case hasNew && nsc == osc && dst["cvssVector"] == nil && src["cvssVector"] != nil,
		!hasNew && !hasOld && dst["cvssVector"] == nil && src["cvssVector"] != nil:
		dst["cvssVector"] = src["cvssVector"]
	}
}

func capList(l []string) []string {
	if len(l) > maxListLen {
		return l[:maxListLen]
	}
	return l
}

// compact drops empty and repeated strings, keeping the order.
func compact(l []string) []string {
	seen := make(map[string]bool, len(l))
	out := l[:0:0]
	for _, s := range l {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Severities of the model.
const (
	sevNone     = "NONE"
	sevLow      = "LOW"
	sevMedium   = "MEDIUM"
	sevHigh     = "HIGH"
	sevCritical = "CRITICAL"
	sevUnknown  = "UNKNOWN"
)

// severityRank orders severities: UNKNOWN below NONE, so that any known severity wins a merge.
func severityRank(s string) int {
	switch s {
	case sevNone:
		return 0
	case sevLow:
		return 1
	case sevMedium:
		return 2
	case sevHigh:
		return 3
	case sevCritical:
		return 4
	}
	return -1
}

// normSeverity maps a scanner's severity word onto the model's; ok is false for a word it does
// not know (then UNKNOWN). Empty stays empty.
func normSeverity(s string) (sev string, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return "", true
	case "CRITICAL":
		return sevCritical, true
	case "HIGH", "IMPORTANT":
		return sevHigh, true
	case "MEDIUM", "MODERATE":
		return sevMedium, true
	case "LOW", "NEGLIGIBLE", "MINOR":
		return sevLow, true
	case "NONE", "INFO", "INFORMATIONAL":
		return sevNone, true
	case "UNKNOWN", "UNSPECIFIED", "UNDEFINED":
		return sevUnknown, true
	}
	return sevUnknown, false
}

// cvssSeverity buckets a CVSS-like score the way CVSS v3 names its ratings; ok is false outside
// 0–10.
func cvssSeverity(score float64) (string, bool) {
	switch {
	case math.IsNaN(score) || score < 0 || score > 10:
		return "", false
	case score == 0:
		return sevNone, true
	case score < 4:
		return sevLow, true
	case score < 7:
		return sevMedium, true
	case score < 9:
		return sevHigh, true
	}
	return sevCritical, true
}

var (
	cvePrefix  = regexp.MustCompile(`^(?i:CVE)-[0-9]{4}-[0-9]{4,}`)
	ghsaPrefix = regexp.MustCompile(`^(?i:GHSA)(-[0-9A-Za-z]{4}){3}`)
)

// normVulnID trims an advisory id and spells CVE and GHSA ids the canonical way.
func normVulnID(id string) string {
	id = strings.TrimSpace(id)
	if m := cvePrefix.FindString(id); m != "" && len(m) == len(id) {
		return strings.ToUpper(id)
	}
	if m := ghsaPrefix.FindString(id); m != "" && len(m) == len(id) {
		return "GHSA" + strings.ToLower(id[4:])
	}
	return id
}

// vulnIDPrefix finds a CVE or GHSA id at the start of s, ended by the end of s or a character
// that is neither a letter nor a digit: "CVE-2005-2541-tar" → "CVE-2005-2541".
func vulnIDPrefix(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, re := range []*regexp.Regexp{cvePrefix, ghsaPrefix} {
		m := re.FindString(s)
		if m == "" {
			continue
		}
		if len(m) < len(s) {
			c := s[len(m)]
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				continue
			}
		}
		return normVulnID(m), true
	}
	return "", false
}

// fingerprint hashes its parts, each length-prefixed so that no two lists of parts collide.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// decodeError turns an encoding/json error on data into a *ingest.ParseError with the line and
// column it happened at.
func decodeError(data []byte, err error) *ingest.ParseError {
	pe := &ingest.ParseError{Format: format, Msg: err.Error()}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off := se.Offset
		if off > 0 && off < int64(len(data)) || off == int64(len(data)) && !strings.Contains(se.Error(), "end of JSON input") {
			off-- // the offset is just past the offending byte
		}
		pe.Line, pe.Column = ingest.LineCol(data, off)
		pe.Msg = "malformed JSON: " + se.Error()
	case errors.As(err, &te):
		pe.Path = te.Field
		if te.Offset > 0 {
			pe.Line, pe.Column = ingest.LineCol(data, te.Offset-1)
		}
		want := "another type"
		if te.Type != nil {
			want = describeType(te.Type.String())
		}
		pe.Msg = fmt.Sprintf("%s is a JSON %s, want %s", orTop(te.Field), te.Value, want)
	}
	return pe
}

func orTop(field string) string {
	if field == "" {
		return "the document"
	}
	return field
}

// describeType names a Go type the way a JSON reader would.
func describeType(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "struct"), strings.Contains(t, "."):
		return "an object"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "float"), strings.HasPrefix(t, "uint"):
		return "a number"
	}
	return t
}

// topLevel reads the document's top-level keys. It fails with a *ingest.ParseError on malformed
// JSON or anything but an object.
func topLevel(data []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ingest.ParseError{Format: format, Msg: "empty document"}
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &ingest.ParseError{Format: format, Line: 1, Column: 1,
				Msg: fmt.Sprintf("the document is a JSON %s, want an object", te.Value)}
		}
		return nil, decodeError(data, err)
	}
	if keys == nil {
		return nil, &ingest.ParseError{Format: format, Msg: "the document is JSON null, want an object"}
	}
	return keys, nil
}

// notThisFormat says why data is not a document of this format, naming the format it is when
// ingest.Detect recognises another.
func notThisFormat(data []byte, why string) *ingest.ParseError {
	if f, err := ingest.Detect(data); err == nil && f != format {
		why = fmt.Sprintf("this is a %s document (%s)", f, why)
	}
	return &ingest.ParseError{Format: format, Msg: why}
}

// jsonKind names the kind of a raw JSON value: object, array, string, number, boolean or null.
func jsonKind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// flexNum is a JSON number that may also arrive as a numeric string. It never fails to decode:
// anything else leaves it unset with Bad and Raw saying what was there.
type flexNum struct {
	V   float64
	Set bool // a number was read
	Str bool // it came as a string
	Bad bool // something that is not a number was there
	Raw string
}

func (n *flexNum) UnmarshalJSON(b []byte) error {
	*n = flexNum{}
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			n.Bad, n.Raw = true, clip(s, 40)
			return nil
		}
		str = strings.TrimSpace(str)
		if str == "" {
			return nil
		}
		n.Str, s = true, str
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		n.Bad, n.Raw = true, clip(s, 40)
		return nil
	}
	n.V, n.Set = f, true
	return nil
}

// flexInt is a flexNum that must be a whole number.
type flexInt struct {
	V   int
	Set bool
	Str bool
	Bad bool
	Raw string
}

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var f flexNum
	_ = f.UnmarshalJSON(b)
	*n = flexInt{Str: f.Str, Bad: f.Bad, Raw: f.Raw}
	if !f.Set {
		return nil
	}
	if f.V != math.Trunc(f.V) || math.Abs(f.V) > 1<<31 {
		n.Bad, n.Raw, n.Str = true, clip(strings.TrimSpace(string(b)), 40), false
		return nil
	}
	n.V, n.Set = int(f.V), true
	return nil
}
