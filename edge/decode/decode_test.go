package decode_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fixedNow is the clock of every test: syslog years are inferred from it.
var fixedNow = func() time.Time { return time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC) }

// render decodes everything and writes one line per record or error.
func render(t testing.TB, name string, in []byte, opts decode.Options) string {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	d, err := decode.New(name, bytes.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for rec, err := range decode.Records(context.Background(), d) {
		if err != nil {
			kind := "other"
			switch {
			case errors.Is(err, decode.ErrMalformed):
				kind = "malformed"
			case errors.Is(err, decode.ErrTooLarge):
				kind = "too large"
			}
			fmt.Fprintf(&out, "error (%s): %v\n", kind, err)
			continue
		}
		b, err := rec.AppendJSON(nil)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.String()
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestGolden decodes each fixture in testdata and compares the records and errors with its
// .golden file.
func TestGolden(t *testing.T) {
	for _, tc := range []struct{ decoder, file string }{
		{"suricata", "eve.jsonl"},
		{"json", "eve.jsonl"},
		{"zeek", "zeek-conn.json.log"},
		{"zeek", "zeek-conn.tsv"},
		{"fiware", "fiware-normalized.json"},
		{"fiware", "fiware-ld.jsonld"},
		{"sshd", "auth.log"},
		{"flowcsv", "cic.csv"},
		{"flowcsv", "argus.csv"},
	} {
		t.Run(tc.decoder+"/"+tc.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, tc.decoder, in, decode.Options{})
			golden(t, filepath.Join("testdata", tc.decoder+"."+tc.file+".golden"), got)
		})
	}
}

func TestErrorsCarryLineAndHideInput(t *testing.T) {
	secret := "alice@example.org"
	in := "{\"a\":1}\n{\"user\":\"" + secret + "\" oops}\n\n{\"b\":2}\n"
	d := decode.NewJSON(strings.NewReader(in), decode.Options{})
	ctx := context.Background()
	if _, err := d.Next(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := d.Next(ctx)
	var de *decode.Error
	if !errors.As(err, &de) || !errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("err = %v, want a *decode.Error matching ErrMalformed", err)
	}
	if de.Line != 2 || de.Decoder != "json" {
		t.Errorf("line %d decoder %q, want 2 json", de.Line, de.Decoder)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "oops") {
		t.Errorf("error text quotes the input: %v", err)
	}
	if !bytes.Contains(de.Raw, []byte(secret)) {
		t.Errorf("Raw = %q, want the bad line for dead-lettering", de.Raw)
	}
	rec, err := d.Next(ctx)
	if err != nil || rec["b"] == nil {
		t.Fatalf("after a bad line: %v %v, want the next record", rec, err)
	}
	if _, err := d.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want io.EOF", err)
	}
	if _, err := d.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("second err = %v, want io.EOF again", err)
	}
}

func TestTooLarge(t *testing.T) {
	long := `{"x":"` + strings.Repeat("y", 300) + `"}`
	for _, tc := range []struct {
		name, in string
		want     []string // "ok" or "large"
	}{
		{"json", `{"a":1}` + "\n" + long + "\n" + `{"b":2}`, []string{"ok", "large", "ok"}},
		{"json", "{\n\"x\": \"" + strings.Repeat("z", 80) + "\",\n\"y\": \"" + strings.Repeat("z", 80) + "\"\n}\n{\"c\":3}\n", []string{"large", "ok"}},
		{"sshd", "Mar  1 03:04:05 h sshd[1]: " + strings.Repeat("A", 300) + "\nMar  1 03:04:05 h sshd[1]: hi\n", []string{"large", "ok"}},
		{"flowcsv", "a,b\n1,2\n" + strings.Repeat("3", 200) + ",4\n5,6\n", []string{"ok", "large", "ok"}},
		{"zeek", "#fields\ta\n1\n" + strings.Repeat("3", 200) + "\n5\n", []string{"ok", "large", "ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := decode.New(tc.name, strings.NewReader(tc.in), decode.Options{MaxRecordBytes: 128, Now: fixedNow})
			var got []string
			for _, err := range decode.Records(context.Background(), d) {
				switch {
				case err == nil:
					got = append(got, "ok")
				case errors.Is(err, decode.ErrTooLarge):
					got = append(got, "large")
					var de *decode.Error
					if !errors.As(err, &de) || de.Raw != nil {
						t.Errorf("too-large error %v carries Raw", err)
					}
				default:
					got = append(got, "error: "+err.Error())
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadErrorIsFinal(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("{\"a\":1}\n"), iotest.ErrReader(boom))
	for _, name := range decode.Names() {
		d, _ := decode.New(name, r, decode.Options{})
		var last error
		for i := 0; i < 5; i++ {
			if _, err := d.Next(context.Background()); err != nil && !decode.IsRecordError(err) {
				last = err
				break
			}
		}
		if name == "json" && !errors.Is(last, boom) {
			t.Errorf("%s: last error %v, want the read error", name, last)
		}
		if _, err := d.Next(context.Background()); !errors.Is(err, last) {
			t.Errorf("%s: error after a final one = %v, want it again", name, err)
		}
		r = io.MultiReader(strings.NewReader("x\n"), iotest.ErrReader(boom))
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range decode.Names() {
		d, _ := decode.New(name, strings.NewReader("{}\n"), decode.Options{})
		if _, err := d.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
}

func TestNew(t *testing.T) {
	want := []string{"fiware", "flowcsv", "json", "sshd", "suricata", "zeek"}
	if got := decode.Names(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		d, err := decode.New(n, strings.NewReader(""), decode.Options{})
		if err != nil || d.Name() != n {
			t.Errorf("New(%q): %v, name %q", n, err, d.Name())
		}
		if _, err := d.Next(context.Background()); !errors.Is(err, io.EOF) {
			t.Errorf("%s on empty input: %v, want io.EOF", n, err)
		}
	}
	if _, err := decode.New("nope", strings.NewReader(""), decode.Options{}); !errors.Is(err, decode.ErrUnknownDecoder) {
		t.Errorf("New(nope) = %v", err)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		" Flow ID":                  "flow_id",
		" Source IP":                "source_ip",
		"Flow Bytes/s":              "flow_bytes_s",
		"Flow Byts/s":               "flow_byts_s",
		"Fwd Header Length.1":       "fwd_header_length_1",
		"Init_Win_bytes_forward":    "init_win_bytes_forward",
		"SrcAddr":                   "src_addr",
		"sTos":                      "s_tos",
		"TotPkts":                   "tot_pkts",
		"StartTime":                 "start_time",
		"ECE Flag Cnt":              "ece_flag_cnt",
		"CWE Flag Count":            "cwe_flag_count",
		"Down/Up Ratio":             "down_up_ratio",
		"address__addressLocality_": "address_address_locality",
		"location__coordinates__0_": "location_coordinates_0",
		"HTTPStatus":                "http_status",
		"ipv4":                      "ipv4",
		"":                          "",
		"---":                       "",
	} {
		if got := decode.SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecordText(t *testing.T) {
	rec := decode.Record{"s": "x", "n": jsonNumber("12.5"), "b": true, "a": []any{1}, "z": nil}
	for k, want := range map[string]string{"s": "x", "n": "12.5", "b": "true"} {
		if got, ok := rec.Text(k); !ok || got != want {
			t.Errorf("Text(%q) = %q, %v", k, got, ok)
		}
	}
	for _, k := range []string{"a", "z", "missing"} {
		if _, ok := rec.Text(k); ok {
			t.Errorf("Text(%q) ok, want not", k)
		}
	}
	if s, ok := rec.String("n"); ok {
		t.Errorf("String(n) = %q, want not a string", s)
	}
}

func TestEncoderEscapes(t *testing.T) {
	rec := decode.Record{"k\"ey": "a\"b\\c\n\t\x01\u2028<&>\xff", "n": jsonNumber("-0.5e+10"), "arr": []any{map[string]any{"z": 1, "a": nil}, false}}
	b, err := rec.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"arr":[{"a":null,"z":1},false],"k\"ey":"a\"b\\c\n\t\u0001\u2028<&>\ufffd","n":-0.5e+10}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if _, err := (decode.Record{"n": jsonNumber("1x")}).MarshalJSON(); err == nil {
		t.Error("an invalid json.Number encoded without error")
	}
}
