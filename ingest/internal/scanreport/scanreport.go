// Package scanreport holds what the parsers of scanner reports (SARIF, Trivy, Grype) share: a
// batch builder that only takes what graph validation accepts, warning about the rest with
// warnings grouped by kind, and the keys and version ranges of the packages a scanner reports.
package scanreport

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/text"
)

// MaxWarningsPerKind bounds the warnings of one kind; the rest are summed up in one more.
const MaxWarningsPerKind = 20

// Builder assembles a Document's batch on a batch.Builder: a node whose key cannot be written
// is skipped with a warning, properties are cleaned and bounded to what validation accepts, and
// an edge is only added between nodes already in the batch. It also lists the document's
// components and collects its warnings. The zero value is not usable: call NewBuilder.
type Builder struct {
	b         *batch.Builder
	comps     []string
	compSeen  map[string]bool
	warnings  []ingest.Warning
	warnKinds map[string]int
	warnOrder []string
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{b: batch.New(), compSeen: map[string]bool{}, warnKinds: map[string]int{}}
}

// Warn records a tolerated deviation at path; msg and args are formatted as by fmt.Sprintf.
// kind groups warnings of one sort: past MaxWarningsPerKind of a kind, they are only counted.
func (b *Builder) Warn(kind, path, msg string, args ...any) {
	if b.warnKinds[kind] == 0 {
		b.warnOrder = append(b.warnOrder, kind)
	}
	b.warnKinds[kind]++
	if b.warnKinds[kind] <= MaxWarningsPerKind {
		b.warnings = append(b.warnings, ingest.Warning{Path: path, Message: fmt.Sprintf(msg, args...)})
	}
}

// Finish hands what was built to doc: the batch, the components added with Component (in the
// order they were first added), and the warnings, with one more for each kind that was cut
// short, in the order the kinds first occurred.
func (b *Builder) Finish(doc *ingest.Document) {
	doc.Batch = b.b.Batch()
	doc.Components = b.comps
	doc.Warnings = b.warnings
	for _, k := range b.warnOrder {
		if n := b.warnKinds[k]; n > MaxWarningsPerKind {
			doc.Warnings = append(doc.Warnings, ingest.Warning{Message: fmt.Sprintf("%d more warnings of this kind: %s", n-MaxWarningsPerKind, k)})
		}
	}
}

// Has reports whether the batch holds a node.
func (b *Builder) Has(label, key string) bool { return b.b.Has(label, key) }

// Node adds a node or merges props into the node already there (batch.MergeProps). It reports
// false, with a warning at path, when the key cannot be written (batch.ValidKey).
func (b *Builder) Node(path, label, key string, props map[string]any) bool {
	if !batch.ValidKey(key) {
		b.Warn("unusable key", path, "%s key %q is empty, longer than %d bytes or not UTF-8; skipped", label, text.Cut(key, 80), batch.MaxKeyLen)
		return false
	}
	b.b.Node(label, key, b.clean(path, props))
	return true
}

// Component adds a Component, as Node does, and lists its purl among the document's components.
func (b *Builder) Component(path, purl string, props map[string]any) bool {
	if !b.Node(path, graph.LabelComponent, purl, props) {
		return false
	}
	if !b.compSeen[purl] {
		b.compSeen[purl] = true
		b.comps = append(b.comps, purl)
	}
	return true
}

// Edge adds a relationship between two nodes of the batch, merging props into an edge already
// there. It reports false when an endpoint is not in the batch.
func (b *Builder) Edge(path, typ string, from, to graph.NodeRef, props map[string]any) bool {
	if !b.b.Has(from.Label, from.Key) || !b.b.Has(to.Label, to.Key) {
		return false
	}
	return b.b.Edge(typ, from, to, b.clean(path, props))
}

// clean returns the properties to keep: nil, empty strings, empty lists and non-finite numbers
// are dropped, lists compacted (batch.Compact), invalid UTF-8 replaced, and strings and lists
// bounded to what validation accepts, with a warning.
func (b *Builder) clean(path string, props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		switch x := v.(type) {
		case nil:
			continue
		case string:
			if x == "" {
				continue
			}
			if len(x) > batch.MaxStringLen {
				b.Warn("long string", path, "%s is %d bytes long; cut to %d", k, len(x), batch.MaxStringLen)
				x = text.Cut(x, batch.MaxStringLen)
			}
			if !utf8.ValidString(x) {
				x = strings.ToValidUTF8(x, "\uFFFD")
			}
			out[k] = x
		case []string:
			x = batch.Compact(x)
			if len(x) == 0 {
				continue
			}
			if len(x) > batch.MaxListLen {
				b.Warn("long list", path, "%s has %d items; kept the first %d", k, len(x), batch.MaxListLen)
				x = x[:batch.MaxListLen]
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

// PurlFor is the key of a reported package: its declared purl, normalised (purl.Normalize), when
// it has a readable one, else purl.Generic(name, version) with a warning at path. ok is false,
// with a warning, when there is neither a readable purl nor a name: a package without a name is
// not identified.
func (b *Builder) PurlFor(path, declared, name, version string) (key string, ok bool) {
	if strings.TrimSpace(declared) != "" {
		p, err := purl.Normalize(declared)
		if err == nil {
			return p, true
		}
		if g, ok := generic(name, version); ok {
			b.Warn("bad purl", path, "purl %q is not a package URL (%v); used %s", text.Cut(declared, 200), err, g)
			return g, true
		}
		b.Warn("no package", path, "purl %q is not a package URL (%v) and there is no name; skipped", text.Cut(declared, 200), err)
		return "", false
	}
	if g, ok := generic(name, version); ok {
		b.Warn("no purl", path, "no purl; used %s", g)
		return g, true
	}
	b.Warn("no package", path, "neither a purl nor a package name; skipped")
	return "", false
}

// generic is purl.Generic for a package with a name; ok is false without one.
func generic(name, version string) (string, bool) {
	if strings.TrimSpace(name) == "" {
		return "", false
	}
	return purl.Generic(name, version), true
}

// VersionRange says which versions a finding covers, as far as the scanner tells: below the fix
// ("<1.2.4") when there is exactly one fixed version, else the installed version ("=1.2.3"),
// else "".
func VersionRange(installed string, fixed []string) string {
	if len(fixed) == 1 {
		return "<" + fixed[0]
	}
	if installed = strings.TrimSpace(installed); installed != "" {
		return "=" + installed
	}
	return ""
}
