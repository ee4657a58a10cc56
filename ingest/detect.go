package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// More formats recognised by Detect: enrichment feeds.
const (
	FormatKEV    = "kev"    // CISA Known Exploited Vulnerabilities catalogue
	FormatATTACK = "attack" // MITRE ATT&CK STIX 2.1 bundle
)

// ErrUnknownFormat means Detect recognised no format. The HTTP layer answers 415.
var ErrUnknownFormat = errors.New("unknown document format")

// Detect names the format of a JSON document from its top-level keys, reading no further than
// it must: most documents say what they are in their first keys. A document that is not a JSON
// object is ErrUnknownFormat; malformed JSON before a decision is a *ParseError.
func Detect(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return "", syntaxError("json", data, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", ErrUnknownFormat
	}
	seen := map[string]string{} // key → its value when a short string, else ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", syntaxError("json", data, err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", syntaxError("json", data, err)
		}
		var s string
		if len(raw) > 0 && raw[0] == '"' && len(raw) < 512 {
			_ = json.Unmarshal(raw, &s)
		}
		seen[key] = s
		if f := decide(seen, false); f != "" {
			return f, nil
		}
	}
	if f := decide(seen, true); f != "" {
		return f, nil
	}
	return "", ErrUnknownFormat
}

// decide applies the rules to the keys seen so far; final says every key has been seen.
func decide(seen map[string]string, final bool) string {
	has := func(k string) bool { _, ok := seen[k]; return ok }
	switch {
	case strings.EqualFold(seen["bomFormat"], "CycloneDX"):
		return FormatCycloneDX
	case has("spdxVersion"):
		return FormatSPDX
	case strings.Contains(seen["@context"], "openvex"):
		return FormatOpenVEX
	case has("SchemaVersion") && (has("Results") || has("ArtifactName") || has("ArtifactType")):
		return FormatTrivy
	case has("matches") && (has("source") || has("descriptor") || has("distro")):
		return FormatGrype
	case has("catalogVersion") && has("vulnerabilities"):
		return FormatKEV
	case seen["type"] == "bundle" && has("objects"):
		return FormatATTACK
	}
	if !final {
		return ""
	}
	// Formats recognised only once every key is known.
	switch {
	case has("runs") && (has("version") || has("$schema") || len(seen) == 1):
		return FormatSARIF
	case has("matches"):
		return FormatGrype
	case has("id") && (has("affected") || has("modified") || has("schema_version") || has("aliases")):
		return FormatOSV
	}
	return ""
}

// syntaxError turns a JSON decoding error into a *ParseError with line and column.
func syntaxError(format string, data []byte, err error) error {
	var se *json.SyntaxError
	var ute *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset // json.Decoder reports the offending byte's own offset
	case errors.As(err, &ute):
		off = ute.Offset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
	}
	pe := &ParseError{Format: format, Msg: err.Error()}
	if off >= 0 {
		pe.Line, pe.Column = LineCol(data, off)
	}
	return pe
}

// LineCol converts a byte offset into a 1-based line and column.
func LineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	head := data[:off]
	line = bytes.Count(head, []byte{'\n'}) + 1
	col = int(off) - bytes.LastIndexByte(head, '\n')
	return line, col
}
