package openvex

// This file is kept identical in ingest/osv, ingest/openvex, ingest/kev and ingest/attack (but
// for the package clause): the four enrichment parsers may not import one another, and what
// they share is small. It assembles a graph.Batch without duplicate node keys or dangling edges,
// collects warnings, and holds the normalisation they need (vulnerability ids, CWE ids, purls,
// JSON errors).

import (
	"bytes"
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

	"github.com/package-url/packageurl-go"

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
	warnings  []ingest.Warning
	warnKinds map[string]int
	warnOrder []string
}

type edgeKey struct {
	typ      string
	from, to graph.NodeRef
}

func newBuilder() *builder {
	return &builder{nodeAt: map[graph.NodeRef]int{}, edgeAt: map[edgeKey]int{}, warnKinds: map[string]int{}}
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

// edge adds a relationship between two nodes of the batch, or replaces the props of the edge
// already there when replace is true (else merges them). It returns the edge's index, or -1
// when an endpoint is not in the batch.
func (b *builder) edge(path, typ string, from, to graph.NodeRef, props map[string]any, replace bool) int {
	if _, ok := b.nodeAt[from]; !ok {
		return -1
	}
	if _, ok := b.nodeAt[to]; !ok {
		return -1
	}
	props = b.clean(path, props)
	k := edgeKey{typ, from, to}
	if i, ok := b.edgeAt[k]; ok {
		if replace {
			b.batch.Edges[i].Props = props
		} else {
			mergeProps(b.batch.Edges[i].Props, props)
		}
		return i
	}
	b.edgeAt[k] = len(b.batch.Edges)
	b.batch.Edges = append(b.batch.Edges, graph.EdgeRow{Type: typ, From: from, To: to, Props: props})
	return len(b.batch.Edges) - 1
}

// clean drops empty values and bounds strings and lists to what validation accepts.
func (b *builder) clean(path string, props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		switch x := v.(type) {
		case nil:
			continue
		case string:
			x = strings.TrimSpace(x)
			if x == "" {
				continue
			}
			if !utf8.ValidString(x) {
				x = strings.ToValidUTF8(x, "\uFFFD")
			}
			if len(x) > maxStringLen {
				b.warn("long string", path, "%s is %d bytes long; cut to %d", k, len(x), maxStringLen)
				x = clip(x, maxStringLen)
			}
			out[k] = x
		case []string:
			x = compact(x)
			for i, s := range x {
				if !utf8.ValidString(s) || len(s) > maxStringLen {
					x[i] = clip(strings.ToValidUTF8(s, "\uFFFD"), maxStringLen)
				}
			}
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
// what is missing is filled in, lists are joined, and kev is true when any mention says so.
func mergeProps(dst, src map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		v := src[k]
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		switch k {
		case "kev":
			nb, _ := v.(bool)
			ob, _ := old.(bool)
			dst[k] = nb || ob
		default:
			ol, oldList := old.([]string)
			nl, newList := v.([]string)
			if oldList && newList {
				l := compact(append(slices.Clone(ol), nl...))
				if len(l) > maxListLen {
					l = l[:maxListLen]
				}
				dst[k] = l
			}
		}
	}
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

var (
	cveID  = regexp.MustCompile(`^(?i:CVE)-[0-9]{4}-[0-9]{4,}$`)
	ghsaID = regexp.MustCompile(`^(?i:GHSA)(-[0-9A-Za-z]{4}){3}$`)
	cweID  = regexp.MustCompile(`^(?i:CWE)?[-_ ]?([0-9]{1,7})$`)
)

// normVulnID trims an advisory id and spells CVE and GHSA ids the canonical way, as the scanner
// parsers do, so that the same vulnerability has one key whatever wrote it.
func normVulnID(id string) string {
	id = strings.TrimSpace(id)
	switch {
	case cveID.MatchString(id):
		return strings.ToUpper(id)
	case ghsaID.MatchString(id):
		return "GHSA" + strings.ToLower(id[4:])
	}
	return id
}

// normCWE spells a CWE id CWE-<n>; ok is false for anything that is not one ("NVD-CWE-noinfo",
// "NVD-CWE-Other", words).
func normCWE(s string) (string, bool) {
	m := cweID.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return "", false
	}
	return "CWE-" + strconv.Itoa(n), true
}

// cwes normalises a list of CWE ids, warning about entries that are not CWE ids but for NVD's
// placeholders, which say only that there is none.
func (b *builder) cwes(path string, in []string) []string {
	var out []string
	for i, s := range in {
		c, ok := normCWE(s)
		if !ok {
			if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "NVD-CWE-") && strings.TrimSpace(s) != "" {
				b.warn("bad cwe", fmt.Sprintf("%s[%d]", path, i), "%q is not a CWE id; ignored", clip(s, 80))
			}
			continue
		}
		out = append(out, c)
	}
	return compact(out)
}

// normPurl parses a package URL and returns its canonical spelling (packageurl-go's ToString:
// lower-case type, sorted qualifiers, canonical escaping), so that the same package has the
// same key whatever wrote it. It re-parses until the spelling is stable, and refuses a purl
// whose spelling never settles.
func normPurl(s string) (purl string, err error) {
	defer func() {
		if r := recover(); r != nil {
			purl, err = "", fmt.Errorf("unreadable package URL: %v", r)
		}
	}()
	out := strings.TrimSpace(s)
	if !utf8.ValidString(out) {
		return "", errors.New("not valid UTF-8")
	}
	for range 3 {
		p, err := packageurl.FromString(out)
		if err != nil {
			return "", err
		}
		next := p.ToString()
		if next == out {
			return out, nil
		}
		out = next
	}
	if p, err := packageurl.FromString(out); err != nil || p.ToString() != out {
		return "", fmt.Errorf("%q has no stable canonical spelling", clip(s, 200))
	}
	return out, nil
}

// decodeError turns an encoding/json error on data into a *ingest.ParseError with the line and
// column it happened at. base is the offset in the document of data (0 for the whole
// document), whole the document itself.
func decodeError(whole []byte, base int64, err error) *ingest.ParseError {
	pe := &ingest.ParseError{Format: format, Msg: err.Error()}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off := base + se.Offset
		if off > 0 && off < int64(len(whole)) || off == int64(len(whole)) && !strings.Contains(se.Error(), "end of JSON input") {
			off-- // the offset is just past the offending byte
		}
		pe.Line, pe.Column = ingest.LineCol(whole, off)
		pe.Msg = "malformed JSON: " + se.Error()
	case errors.As(err, &te):
		pe.Path = te.Field
		if te.Offset > 0 {
			pe.Line, pe.Column = ingest.LineCol(whole, base+te.Offset-1)
		}
		want := "another type"
		if te.Type != nil {
			want = describeType(te.Type.String())
		}
		field := te.Field
		if field == "" {
			field = "the document"
		}
		pe.Msg = fmt.Sprintf("%s is a JSON %s, want %s", field, te.Value, want)
	}
	return pe
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
		return nil, decodeError(data, 0, err)
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
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
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

// str reads a raw JSON value as a string: ok is false, and s empty, when it is anything else
// (null and absence give "", true).
func str(raw json.RawMessage) (s string, ok bool) {
	switch jsonKind(raw) {
	case "nothing", "null":
		return "", true
	case "string":
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	}
	return "", false
}
