package decode_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

// The fuzz targets below decode arbitrary input with each decoder: none may panic or stall,
// every error must be a record error with a sane line, and every record must encode to JSON
// and keep the decoder's own invariants. Seed corpora are in testdata/fuzz/<FuzzName>/, cut
// from the fixtures in testdata.

func FuzzSuricata(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2025-01-01T00:00:00.000000+0000","event_type":"alert","alert":{"signature":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, "suricata", data, func(rec decode.Record) string {
			if _, ok := rec["event_type"].(string); !ok {
				return "no event_type"
			}
			return ""
		})
	})
}

func FuzzZeek(f *testing.F) {
	f.Add([]byte("#separator \\x09\n#fields\tts\tid.orig_h\n#types\ttime\taddr\n1.5\t10.0.0.1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, "zeek", data, nil)
	})
}

func FuzzFIWARE(f *testing.F) {
	f.Add([]byte(`{"id":"a","type":"T","x":{"type":"Number","value":1,"metadata":{"m":{"type":"Text","value":"v"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, "fiware", data, func(rec decode.Record) string {
			if _, ok := rec["id"].(string); !ok {
				return "no string id"
			}
			if _, ok := rec["type"].(string); !ok {
				return "no string type"
			}
			return ""
		})
	})
}

func FuzzSSHD(f *testing.F) {
	f.Add([]byte("Mar  1 03:04:05 h sshd[1]: Failed password for invalid user x from 192.0.2.1 port 22 ssh2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, "sshd", data, func(rec decode.Record) string {
			ts, _ := rec.String("ts")
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				return "ts is not RFC 3339"
			}
			if ev, _ := rec.String("event"); ev == "" {
				return "no event"
			}
			for _, k := range []string{"src_ip", "dst_ip"} {
				if s, ok := rec.String(k); ok {
					if _, err := netip.ParseAddr(s); err != nil {
						return k + " is not an address"
					}
				}
			}
			return ""
		})
	})
}

func FuzzFlowCSV(f *testing.F) {
	f.Add([]byte("StartTime,SrcAddr,Dir\n2025/03/04 12:00:00.015000,192.0.2.50,  ->\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, "flowcsv", data, func(rec decode.Record) string {
			for k, v := range rec {
				if k == "" {
					return "empty field name"
				}
				if s, ok := v.(string); ok && s == "" {
					return "empty value kept"
				}
			}
			return ""
		})
	})
}
