package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// NewFlowCSV decodes flow CSVs with a header row: CICFlowMeter output (both the CIC-IDS2017
// " Source IP, Flow Bytes/s" and the CSE-CIC-IDS2018 "Src IP,Flow Byts/s" layouts), Argus ra -c
// output (StartTime,Dur,Proto,SrcAddr,Sport,Dir,...) and any other comma-separated flow table.
// Each row gives a record keyed by the header's names in snake_case (see SnakeCase):
// source_ip, flow_bytes_s, src_addr, tot_pkts. Values are trimmed; empty ones are left out;
// JSON-style numbers become json.Number; anything else stays a string. Timestamp columns
// (timestamp, start_time, last_time, stime, ltime) in CICFlowMeter's day-first
// "DD/MM/YYYY HH:MM:SS" or Argus' "YYYY/MM/DD HH:MM:SS.ffffff" become RFC 3339 in
// Options.Location. Fields may be double-quoted ("" escapes a quote) but may not span lines.
// A header row repeated later in the file is skipped; a row with more or fewer fields than
// the header is malformed.
func NewFlowCSV(r io.Reader, opts Options) Decoder {
	return &csvDecoder{base: newBase("flowcsv", r, opts)}
}

type csvDecoder struct {
	base
	header  []string
	first   string // the header's first cell as written
	isTime  []bool
	cells   []string
	quoted  []bool
	scratch []byte
}

func (d *csvDecoder) Next(ctx context.Context) (Record, error) {
	for {
		if err := d.check(ctx); err != nil {
			return nil, err
		}
		line, num, tooLarge, err := d.lines.next()
		if err != nil {
			return nil, d.fail(err)
		}
		if tooLarge {
			return nil, d.tooLarge(num)
		}
		if isBlank(line) {
			continue
		}
		cells, off, reason := d.split(line)
		if reason != "" {
			return nil, d.malformed(num, off, line, "%s", reason)
		}
		if d.header == nil {
			if reason := d.setHeader(cells); reason != "" {
				return nil, d.malformed(num, -1, line, "%s", reason)
			}
			continue
		}
		if len(cells) != len(d.header) {
			if d.isHeader(cells) {
				continue
			}
			return nil, d.malformed(num, -1, line, "row has %d fields; the header has %d", len(cells), len(d.header))
		}
		if d.isHeader(cells) {
			continue
		}
		rec := make(Record, len(cells))
		for i, c := range cells {
			if c == "" {
				continue
			}
			rec[d.header[i]] = d.value(c, d.isTime[i], d.quoted[i])
		}
		return rec, nil
	}
}

var timeColumns = map[string]bool{"timestamp": true, "start_time": true, "last_time": true, "stime": true, "ltime": true}

func (d *csvDecoder) setHeader(cells []string) string {
	names := make([]string, len(cells))
	seen := map[string]int{}
	for i, c := range cells {
		if _, err := netip.ParseAddr(c); err == nil || (c != "" && validNumber(c)) {
			return "the first row is not a header: it holds a number or an address"
		}
		n := SnakeCase(c)
		if n == "" {
			n = "col_" + strconv.Itoa(i+1)
		}
		if k := seen[n]; k > 0 {
			seen[n] = k + 1
			n += "_" + strconv.Itoa(k+1)
		} else {
			seen[n] = 1
		}
		names[i] = n
	}
	d.header = names
	d.first = cells[0]
	d.isTime = make([]bool, len(names))
	for i, n := range names {
		d.isTime[i] = timeColumns[n]
	}
	return ""
}

// isHeader reports whether a row repeats the header (as concatenated CSV files do).
func (d *csvDecoder) isHeader(cells []string) bool {
	if len(cells) != len(d.header) || cells[0] != d.first {
		return false
	}
	for i, c := range cells {
		n := SnakeCase(c)
		if n != d.header[i] && !strings.HasPrefix(d.header[i], n+"_") {
			return false
		}
	}
	return true
}

var csvTimeLayouts = []string{
	"2006/01/02 15:04:05.999999999", // Argus
	"02/01/2006 15:04:05",           // CICFlowMeter: day first
	"2/1/2006 15:04:05",
	"02/01/2006 03:04:05 PM",
	"2/1/2006 3:04:05 PM",
	"02/01/2006 15:04",
	"2/1/2006 15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func (d *csvDecoder) value(c string, isTime, quoted bool) any {
	if isTime {
		if t, err := time.Parse(time.RFC3339Nano, c); err == nil {
			return t.Format(time.RFC3339Nano)
		}
		for _, l := range csvTimeLayouts {
			if t, err := time.ParseInLocation(l, c, d.opts.Location); err == nil {
				return t.Format(time.RFC3339Nano)
			}
		}
	}
	if !quoted && validNumber(c) {
		return json.Number(c)
	}
	return c
}

// split splits a CSV line into trimmed cells.
func (d *csvDecoder) split(line []byte) ([]string, int, string) {
	d.cells, d.quoted = d.cells[:0], d.quoted[:0]
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i < len(line) && line[i] == '"' {
			b := d.scratch[:0]
			i++
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					return nil, i, "unterminated quoted field"
				}
				b = append(b, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					b = append(b, '"')
					i++
					continue
				}
				break
			}
			d.scratch = b
			d.cells = append(d.cells, cellString(b))
			d.quoted = append(d.quoted, true)
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			if i < len(line) && line[i] != ',' {
				return nil, i, "unexpected character after a quoted field"
			}
		} else {
			j := bytes.IndexByte(line[i:], ',')
			if j < 0 {
				j = len(line) - i
			}
			d.cells = append(d.cells, cellString(bytes.TrimRight(line[i:i+j], " \t")))
			d.quoted = append(d.quoted, false)
			i += j
		}
		if i >= len(line) {
			return d.cells, -1, ""
		}
		i++ // the comma
		if i == len(line) {
			d.cells = append(d.cells, "")
			d.quoted = append(d.quoted, false)
			return d.cells, -1, ""
		}
	}
}

func cellString(b []byte) string {
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\ufffd")
	}
	return string(b)
}

// SnakeCase normalises a column name: words split at spaces, punctuation and case changes
// ("SrcAddr", "sTos", "ECEFlag"), lower-cased and joined with underscores.
// " Flow Bytes/s" → "flow_bytes_s", "TotPkts" → "tot_pkts", "Fwd Header Length.1" →
// "fwd_header_length_1", "address__addressLocality_" → "address_address_locality".
func SnakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	pendingSep := false
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			pendingSep = b.Len() > 0
			continue
		}
		if unicode.IsUpper(r) && i > 0 && b.Len() > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				pendingSep = true
			}
		}
		if pendingSep {
			b.WriteByte('_')
			pendingSep = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
