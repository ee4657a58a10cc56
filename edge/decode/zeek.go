package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// NewZeek decodes Zeek logs. JSON logs (LogAscii::use_json, json-streaming-logs) are read like
// NewJSON: field names stay as Zeek writes them ("id.orig_h", "_path"), ts stays epoch seconds
// or ISO 8601 as written. Zeek's tab-separated format is recognised by its "#" header lines:
// #separator, #set_separator, #empty_field, #unset_field, #path, #fields and #types are obeyed
// (a file may hold several header blocks); unset fields ("-") are left out, \xHH escapes are
// decoded, time, interval, double, count, int and port values become numbers, bool T/F
// becomes true/false, set[...] and vector[...] become arrays, and "_path" comes from #path.
func NewZeek(r io.Reader, opts Options) Decoder {
	z := &zeekDecoder{json: newJSONReader("zeek", r, opts, nil)}
	z.tsv.reset()
	return z
}

type zeekDecoder struct {
	json  *jsonReader
	mode  int // 0 unknown, 1 JSON, 2 TSV
	tsv   zeekHeader
	vals  [][]byte
	nhint int
}

const (
	zeekUnknown = iota
	zeekJSON
	zeekTSV
)

// zeekHeader is the state of the TSV header lines.
type zeekHeader struct {
	sep, setSep  []byte
	empty, unset string
	path         string
	fields       []string
	types        []string
}

func (h *zeekHeader) reset() {
	*h = zeekHeader{sep: []byte{'\t'}, setSep: []byte{','}, empty: "(empty)", unset: "-"}
}

func (z *zeekDecoder) Name() string { return "zeek" }

func (z *zeekDecoder) Next(ctx context.Context) (Record, error) {
	if z.mode == zeekJSON {
		return z.json.Next(ctx)
	}
	b := &z.json.base
	for {
		if err := b.check(ctx); err != nil {
			return nil, err
		}
		line, num, tooLarge, err := b.lines.next()
		if err != nil {
			return nil, b.fail(err)
		}
		if tooLarge {
			return nil, b.tooLarge(num)
		}
		if isBlank(line) {
			continue
		}
		if z.mode == zeekUnknown {
			if line[0] != '#' {
				z.mode = zeekJSON
				z.json.unread(line, num)
				return z.json.Next(ctx)
			}
			z.mode = zeekTSV
		}
		if line[0] == '#' {
			if e := z.directive(line, num); e != nil {
				return nil, e
			}
			continue
		}
		return z.row(line, num)
	}
}

func (z *zeekDecoder) directive(line []byte, num int) *Error {
	h := &z.tsv
	if rest, ok := bytes.CutPrefix(line, []byte("#separator ")); ok {
		sep := zeekUnescape(rest)
		if len(sep) == 0 {
			return z.json.malformed(num, -1, line, "empty #separator")
		}
		h.sep = []byte(sep)
		return nil
	}
	name, rest, _ := bytes.Cut(line, h.sep)
	switch string(name) {
	case "#set_separator":
		if s := zeekUnescape(rest); s != "" {
			h.setSep = []byte(s)
		}
	case "#empty_field":
		h.empty = zeekUnescape(rest)
	case "#unset_field":
		h.unset = zeekUnescape(rest)
	case "#path":
		h.path = zeekUnescape(rest)
	case "#fields":
		h.fields = h.fields[:0]
		for f := range bytes.SplitSeq(rest, h.sep) {
			h.fields = append(h.fields, z.json.p.keys.intern(f))
		}
		h.types = h.types[:0]
	case "#types":
		h.types = h.types[:0]
		for t := range bytes.SplitSeq(rest, h.sep) {
			h.types = append(h.types, z.json.p.keys.intern(t))
		}
	}
	return nil // #open, #close and comments
}

func (z *zeekDecoder) row(line []byte, num int) (Record, error) {
	h := &z.tsv
	if len(h.fields) == 0 {
		return nil, z.json.malformed(num, -1, line, "a data row before the #fields header")
	}
	z.vals = z.vals[:0]
	for v := range bytes.SplitSeq(line, h.sep) {
		z.vals = append(z.vals, v)
	}
	if len(z.vals) != len(h.fields) {
		return nil, z.json.malformed(num, -1, line, "row has %d fields; #fields names %d", len(z.vals), len(h.fields))
	}
	rec := make(Record, max(z.nhint, len(h.fields)/2)+1)
	if h.path != "" {
		rec["_path"] = h.path
	}
	for i, raw := range z.vals {
		if string(raw) == h.unset {
			continue
		}
		typ := ""
		if i < len(h.types) {
			typ = h.types[i]
		}
		rec[h.fields[i]] = z.value(raw, typ)
	}
	z.nhint = len(rec)
	return rec, nil
}

func (z *zeekDecoder) value(raw []byte, typ string) any {
	h := &z.tsv
	if elem, ok := containerElem(typ); ok {
		if string(raw) == h.empty {
			return []any{}
		}
		var out []any
		for e := range bytes.SplitSeq(raw, h.setSep) {
			out = append(out, zeekScalar(e, elem))
		}
		return out
	}
	if string(raw) == h.empty {
		return ""
	}
	return zeekScalar(raw, typ)
}

func containerElem(typ string) (string, bool) {
	for _, p := range []string{"set[", "vector["} {
		if strings.HasPrefix(typ, p) && strings.HasSuffix(typ, "]") {
			return typ[len(p) : len(typ)-1], true
		}
	}
	return "", false
}

func zeekScalar(raw []byte, typ string) any {
	switch typ {
	case "time", "interval", "double", "count", "int", "port":
		if s := string(raw); validNumber(s) {
			return json.Number(s)
		}
	case "bool":
		switch string(raw) {
		case "T":
			return true
		case "F":
			return false
		}
	}
	return zeekUnescape(raw)
}

// zeekUnescape decodes Zeek's \xHH escapes; other bytes are kept, so the result may be
// invalid UTF-8 (the encoder writes U+FFFD for it).
func zeekUnescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			if n, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(n))
				i += 3
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}
