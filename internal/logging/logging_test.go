package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, level, format string
		wantErr             bool
		wantJSON            bool
		wantLine            bool
	}{
		{name: "json info", level: "info", format: "json", wantJSON: true, wantLine: true},
		{name: "default format is json", level: "info", format: "", wantJSON: true, wantLine: true},
		{name: "console", level: "debug", format: "console", wantLine: true},
		{name: "level filters", level: "error", format: "json"},
		{name: "bad level", level: "loud", format: "json", wantErr: true},
		{name: "bad format", level: "info", format: "xml", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, tt.level, tt.format)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			log.Info().Str("route", "/x").Msg("hello")
			out := buf.String()
			if got := strings.Contains(out, "hello"); got != tt.wantLine {
				t.Fatalf("line written = %v, want %v: %q", got, tt.wantLine, out)
			}
			if tt.wantJSON {
				var m map[string]any
				if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
					t.Fatalf("not JSON: %v: %q", err, out)
				}
				if m["service"] != "sectwin" || m["route"] != "/x" || m["level"] != "info" || m["time"] == nil {
					t.Fatalf("fields missing: %v", m)
				}
			}
		})
	}
}
