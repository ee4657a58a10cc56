package telemetry

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// The fuzz targets feed arbitrary input to Decode, DecodeBatch and every adapter through
// Convert. None may panic or stop early; whatever comes out must be a valid event that
// survives Encode and Decode unchanged, and every rejection must match ErrMalformed. Seed
// corpora are in testdata/fuzz/<FuzzName>/, written from the fixtures of the unit tests.

func FuzzDecode(f *testing.F) {
	f.Add(envelope(KindFlow, flowData(), nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := decodeEvent(data, "", "", testNow())
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			if _, ok := errors.AsType[*FieldError](err); !ok {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			return
		}
		if err := ev.ValidateAt(testNow()); err != nil {
			t.Fatalf("decoded event does not validate: %v", err)
		}
		if err := checkRoundTrip(ev, testNow()); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	good := envelope(KindFlow, flowData(), nil)
	f.Add(append(append([]byte("["), good...), ']'))
	f.Add(append(append(good, '\n'), good...))
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 5
		evs, bad, err := decodeBatch(bytes.NewReader(data), max, "", testNow())
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBatchTooLarge) {
			t.Fatalf("final error %v", err)
		}
		if len(evs)+len(bad) > max {
			t.Fatalf("%d events and %d errors, bound %d", len(evs), len(bad), max)
		}
		last := -1
		for _, b := range bad {
			if b.Index <= last || !errors.Is(b, ErrMalformed) {
				t.Fatalf("batch error %d after %d: %v", b.Index, last, b.Err)
			}
			last = b.Index
		}
		for _, ev := range evs {
			if err := checkRoundTrip(ev, testNow()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// fuzzConvert converts data as source and checks the outcome.
func fuzzConvert(t *testing.T, source string, data []byte) {
	sent := 0
	bad := 0
	c := Converter{Source: source, Twin: "plant", Now: testNow, DeadLetter: func(b BadRecord) {
		bad++
		if !errors.Is(b.Err, ErrMalformed) {
			t.Fatalf("dead letter %v does not match ErrMalformed", b.Err)
		}
		if b.Index < 1 {
			t.Fatalf("dead letter index %d", b.Index)
		}
	}}
	st, err := c.Run(context.Background(), bytes.NewReader(data), func(ev Event) error {
		sent++
		if err := ev.ValidateAt(testNow()); err != nil {
			t.Fatalf("event does not validate: %v", err)
		}
		return checkRoundTrip(ev, testNow())
	})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, n := range st.Skipped {
		skipped += n
	}
	if st.EventCount() != sent || st.Malformed != bad || skipped+st.Malformed > st.Records || len(st.Skipped) > maxSkipReasons {
		t.Fatalf("stats %+v: %d sent, %d dead letters", st, sent, bad)
	}
}

func FuzzConvertSuricata(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-03-01T10:00:00.000000+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","alert":{"signature_id":1,"signature":"x","severity":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceSuricata, data) })
}

func FuzzConvertZeek(f *testing.F) {
	f.Add([]byte(`{"_path":"conn","ts":1772359200.5,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","id.resp_p":22,"proto":"tcp","orig_bytes":1}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceZeek, data) })
}

func FuzzConvertFalco(f *testing.F) {
	f.Add([]byte(`{"rule":"r","priority":"Warning","output":"o","time":"2026-03-01T10:00:00Z","output_fields":{"container.name":"web"}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceFalco, data) })
}

func FuzzConvertWazuh(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-03-01T10:00:00.000+0000","rule":{"id":"5760","level":5,"groups":["authentication_failed"]},"agent":{"name":"a"},"data":{"dstuser":"u"}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceWazuh, data) })
}

func FuzzConvertSSHD(f *testing.F) {
	f.Add([]byte("Mar  1 09:57:21 h sshd[1]: Failed password for invalid user x from 192.0.2.1 port 22 ssh2\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceSSHD, data) })
}

func FuzzConvertFIWARE(f *testing.F) {
	f.Add([]byte(`{"id":"t","type":"TrafficFlowObserved","intensity":{"type":"Number","value":5},"dateObserved":{"type":"DateTime","value":"2026-03-01T10:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceFIWARE, data) })
}

func FuzzConvertFlowCSV(f *testing.F) {
	f.Add([]byte("StartTime,Proto,SrcAddr,Dport,DstAddr,TotBytes\n2026/03/01 10:00:00.000000,tcp,10.0.0.1,0x0016,10.0.0.2,10\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceFlowCSV, data) })
}

func FuzzConvertJSON(f *testing.F) {
	f.Add([]byte(`{"metric":"m","value":1,"window_end":"2026-03-01T10:00:00Z","partition.site":"s"}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzConvert(t, SourceJSON, data) })
}
