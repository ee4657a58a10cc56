// Package sbom holds what the SBOM parsers (CycloneDX, SPDX) share: a Reader that collects a
// document's warnings and decodes its entries leniently, the components both formats describe
// and the keys they get, and the renderings of hashes and subject types they have in common.
package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/text"
)

// MaxWarnings bounds the warnings of one document; the last one says that the rest were left
// out.
const MaxWarnings = 500

// Reader holds what an SBOM parser needs while it reads one document: the document it fills in,
// and the bookkeeping of its warnings and listed components. Parsers embed it.
type Reader struct {
	Doc    *ingest.Document
	warned int
	listed map[string]bool // keys already in Doc.Components
}

// Warn adds a warning to the document, up to MaxWarnings.
func (r *Reader) Warn(path, msg string) {
	r.warned++
	switch {
	case r.warned < MaxWarnings:
		r.Doc.Warnings = append(r.Doc.Warnings, ingest.Warning{Path: path, Message: msg})
	case r.warned == MaxWarnings:
		r.Doc.Warnings = append(r.Doc.Warnings, ingest.Warning{Message: "too many warnings; the rest are left out"})
	}
}

// TypeWarning warns about a member of the entry at path that is of the wrong JSON kind.
func (r *Reader) TypeWarning(path string, te *json.UnmarshalTypeError) {
	if te.Field != "" {
		path += "." + te.Field
	}
	r.Warn(path, fmt.Sprintf("a JSON %s where %s is expected; ignored (later mismatches in this entry go unreported)", te.Value, rawjson.TypeName(te.Type)))
}

// Array reads a JSON array, warning when the value is something else. An absent or null value is
// an empty array.
func (r *Reader) Array(raw json.RawMessage, path string) []json.RawMessage {
	if len(raw) == 0 || rawjson.IsNull(raw) {
		return nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		r.Warn(path, "not an array; ignored")
		return nil
	}
	return out
}

// Entry decodes the entry at path, which should be an object, into dst. An entry that is not an
// object, or cannot be read at all, is skipped with a warning: Entry reports false. Members of
// the wrong kind are warned about (TypeWarning) and cost only themselves.
func (r *Reader) Entry(raw json.RawMessage, path string, dst any) bool {
	if !rawjson.IsObject(raw) {
		r.Warn(path, "not an object; skipped")
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			r.Warn(path, fmt.Sprintf("cannot be read (%v); skipped", err))
			return false
		}
		r.TypeWarning(path, te)
	}
	return true
}

// ListComponent adds key to the document's components unless it is listed already.
func (r *Reader) ListComponent(key string) {
	if r.listed == nil {
		r.listed = map[string]bool{}
	}
	if !r.listed[key] {
		r.listed[key] = true
		r.Doc.Components = append(r.Doc.Components, key)
	}
}

// Component is a package as an SBOM describes it, read and cleaned, with the key it gets.
type Component struct {
	Path     string   // the JSON path of its entry, for warnings
	ID       string   // the document's own reference to it: a bom-ref, an SPDXID
	Purl     string   // its purl, normalised; "" when absent or refused
	Name     string   // its name (CycloneDX: group/name)
	Version  string   // its version
	Type     string   // its type (CycloneDX) or primary purpose (SPDX), in lower case
	Supplier string   // who supplies it
	Hashes   []string // "<alg>:<hex>" (Hash)
	Licenses []string // SPDX ids, names or expressions
	Key      string   // its node key, set by Keys
}

// Props are the properties of the component's node.
func (c *Component) Props() map[string]any {
	props := map[string]any{}
	SetString(props, "name", c.Name)
	SetString(props, "version", c.Version)
	SetString(props, "type", c.Type)
	SetString(props, "supplier", c.Supplier)
	if len(c.Hashes) > 0 {
		props["hashes"] = c.Hashes
	}
	if len(c.Licenses) > 0 {
		props["licenses"] = c.Licenses
	}
	return props
}

// Subject describes the component as the subject of its document: its name (else its ID), version,
// key, type (SubjectType) and digest — its SHA-256 hash, else the digest of an OCI purl.
func (c *Component) Subject() *ingest.Subject {
	s := &ingest.Subject{Name: c.Name, Version: c.Version, Purl: c.Key, Type: SubjectType(c.Type)}
	for _, h := range c.Hashes {
		if strings.HasPrefix(h, "sha256:") {
			s.Digest = h
			break
		}
	}
	if s.Digest == "" && c.Purl != "" {
		s.Digest = purl.OCIDigest(c.Purl)
	}
	if s.Name == "" {
		s.Name = text.Cut(text.Clean(c.ID), 4096)
	}
	return s
}

// Keys gives every component its Key and returns the keys taken. A component's key is its purl;
// real purls are claimed first, so that a generic identity never takes one. A component without
// a purl gets purl.Generic of its name (else its ID) and version; when that identity is taken,
// a qualifier named idQualifier with its ID (when it has one), or else a path qualifier, sets it
// apart, with a warning that calls it a noun ("component", "package").
func (r *Reader) Keys(comps []*Component, idQualifier, noun string) map[string]bool {
	taken := map[string]bool{}
	for _, c := range comps {
		if c.Purl != "" {
			c.Key = c.Purl
			taken[c.Key] = true
		}
	}
	for _, c := range comps {
		if c.Key != "" {
			continue
		}
		name := c.Name
		if name == "" {
			name = c.ID
		}
		c.Key = purl.Generic(name, c.Version)
		if taken[c.Key] {
			clash := c.Key
			if c.ID != "" {
				c.Key = purl.Generic(name, c.Version, purl.Qualifier{Key: idQualifier, Value: c.ID})
			}
			if taken[c.Key] {
				c.Key = purl.Generic(name, c.Version, purl.Qualifier{Key: "path", Value: c.Path})
			}
			r.Warn(c.Path, fmt.Sprintf("no purl, and its identity %s is taken by another %s; identified as %s", clash, noun, c.Key))
		}
		taken[c.Key] = true
	}
	return taken
}

// SubjectType is the Subject type of a component type or purpose: IMAGE for a container,
// PACKAGE for none or an application, library, framework or platform, else the type in upper
// case (cut to 50 bytes).
func SubjectType(t string) string {
	switch t {
	case "container":
		return "IMAGE"
	case "", "application", "library", "framework", "platform":
		return "PACKAGE"
	}
	return strings.ToUpper(text.Cut(t, 50))
}

// Hash renders a hash or checksum as "<alg>:<hex>", the algorithm in lower case without the dash
// of "SHA-": SHA-256 and SHA256 → sha256, SHA3-256 → sha3-256, BLAKE2b-256 → blake2b-256. It
// returns "" for an empty algorithm or a value that is not hex, and for implausibly long ones.
func Hash(alg, value string) string {
	a := strings.ToLower(strings.TrimSpace(alg))
	if strings.HasPrefix(a, "sha-") {
		a = "sha" + a[4:]
	}
	v := strings.ToLower(strings.TrimSpace(value))
	if a == "" || v == "" || len(v) > 1024 || len(a) > 32 {
		return ""
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return ""
		}
	}
	return a + ":" + v
}

// SetString sets props[k] to v unless v is empty.
func SetString(props map[string]any, k, v string) {
	if v != "" {
		props[k] = v
	}
}

// RootError turns a failure to decode a whole document of format into a *ingest.ParseError:
// "empty document", malformed JSON at its line and column, or, for JSON that is not an object,
// notA ("not a CycloneDX BOM") saying what it is instead.
func RootError(format, notA string, data []byte, err error) *ingest.ParseError {
	pe := &ingest.ParseError{Format: format, Msg: err.Error()}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		pe.Msg = "empty document"
	case errors.As(err, &se):
		pe.Line, pe.Column = rawjson.SyntaxErrorAt(data, se)
		pe.Msg = "malformed JSON: " + se.Error()
	case errors.As(err, &te):
		pe.Msg = fmt.Sprintf("%s: the document is a JSON %s, not an object", notA, te.Value)
	}
	return pe
}
