package decode_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/decode"
)

// samplesDir holds the shared, real telemetry samples (see ../shared/samples/SOURCES.md). They
// are read where they are and never copied into the repository.
var samplesDir = filepath.Join("..", "..", "..", "shared", "samples", "telemetry")

// TestCorpus decodes every shared telemetry sample with its decoder: each must decode without
// a single error, into the number of records it holds, and with the fields the privacy
// transforms rely on.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(samplesDir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("no shared samples at %s", samplesDir)
	}
	for _, tc := range []struct {
		file, decoder string
		records       int      // -1: do not check the count
		fields        []string // every record has these
		someFields    []string // at least one record has each
	}{
		{"suricata-eve/crowdsec-hub.suricata-logs-evelog.eve.json", "suricata", 8, []string{"event_type", "timestamp"}, []string{"src_ip", "alert.signature", "http.hostname"}},
		{"suricata-eve/crowdsec-hub.suricata-eve-detect.eve.json", "suricata", 4, []string{"src_ip", "dest_ip", "alert.signature_id"}, []string{"http.http_user_agent"}},
		{"suricata-eve/suricata-verify.output-eve-fileinfo.eve.json", "suricata", 1, []string{"http.url", "fileinfo.filename"}, nil},
		{"suricata-eve/telegraf.suricata-stats.eve.json", "suricata", 1, []string{"stats.uptime"}, nil},
		{"suricata-eve/telegraf.suricata-v2-dns.pretty.json", "suricata", 1, []string{"dns.rrname", "src_ip"}, nil},
		{"suricata-eve/telegraf.suricata-v2-http.pretty.json", "suricata", 1, []string{"dest_ip"}, []string{"http.hostname"}},
		{"zeek/slips.test9-conn.json.log", "zeek", 576, []string{"ts", "id.orig_h", "id.resp_p"}, []string{"orig_l2_addr"}},
		{"zeek/slips.test9-dns.json.log", "zeek", 239, []string{"ts", "id.orig_h"}, []string{"query", "answers"}},
		{"zeek/slips.test15-ssl.json.log", "zeek", 206, []string{"id.resp_h"}, []string{"server_name"}},
		{"zeek/slips.portscan-vertical-conn.json.log", "zeek", 50, []string{"orig_l2_addr"}, nil},
		{"zeek/wrccdc2018.zeek-6.2-ssh.ndjson", "zeek", 22, []string{"_path", "ts", "id.orig_h"}, nil},
		{"zeek/wrccdc2018.zeek-6.2-ntlm.ndjson", "zeek", 422, []string{"_path"}, []string{"username"}},
		{"zeek/wrccdc2018.zeek-6.2-smtp.ndjson", "zeek", 1188, []string{"_path"}, []string{"mailfrom", "rcptto"}},
		{"falco/falco-regression.open_from_cat.2022-08.json", "json", 8, []string{"output_fields.proc.cmdline", "output_fields.evt.time.iso8601"}, nil},
		{"falco/falco-regression.open_from_cat.2020-10-12.json", "json", -1, []string{"rule", "time"}, nil},
		{"wazuh/wazuh.integrations-test-alert.pretty.json", "json", 1, []string{"agent.id", "rule.level", "syscheck.path"}, nil},
		{"wazuh/wazuh-indexer.asl-ocsf-sample-hit.pretty.json", "json", 1, []string{"_source.data.srcip"}, nil},
		{"auth-logs/loghub.OpenSSH_2k.log", "sshd", 2000, []string{"ts", "host", "event"}, []string{"src_ip", "user", "src_port"}},
		{"auth-logs/loghub.Linux_2k.log", "sshd", 2000, []string{"ts", "host", "program"}, []string{"src_ip", "src_host", "user"}},
		{"auth-logs/crowdsec-hub.sshd-logs.log", "sshd", 24, []string{"ts", "event"}, []string{"src_ip"}},
		{"auth-logs/crowdsec-hub.sshd-success-logs.log", "sshd", 4, []string{"user", "src_ip", "src_port", "method"}, []string{"key_fingerprint"}},
		{"auth-logs/crowdsec-hub.pam-sudo-logs.log", "sshd", 2, []string{"program"}, []string{"user"}},
		{"iot-sensor/sdm.TrafficFlowObserved.normalized.json", "fiware", 1, []string{"id", "type", "intensity", "location.coordinates", "address.streetAddress"}, nil},
		{"iot-sensor/sdm.AirQualityObserved.keyvalues.json", "fiware", 1, []string{"id", "location.coordinates", "co2"}, nil},
		{"iot-sensor/sdm.NoiseLevelObserved.normalized.json", "fiware", 1, []string{"id", "location.coordinates"}, nil},
		{"iot-sensor/sdm.ParkingSpot.normalized.jsonld", "fiware", 1, []string{"status", "status.observedAt", "refParkingSite", "location.coordinates"}, nil},
		{"iot-sensor/sdm.DeviceMeasurement.normalized.json", "fiware", 1, []string{"id", "numValue", "refDevice"}, nil},
		{"iot-sensor/sdm.WeatherObserved.keyvalues.csv", "flowcsv", 1, []string{"id", "location_coordinates_0", "temperature"}, nil},
		{"iot-sensor/telegraf.openweathermap-weather-2643743.json", "json", 1, []string{"coord.lat", "coord.lon", "dt"}, nil},
		{"netflow/cicflowmeter.test.pcap.cic2017-header.csv", "flowcsv", 96, []string{"source_ip", "destination_port", "timestamp", "flow_bytes_s"}, nil},
		{"netflow/cicflowmeter.2018-02-07_Flow.cic2018-header.csv", "flowcsv", 53, []string{"src_ip", "dst_port", "timestamp", "flow_byts_s"}, nil},
		{"netflow/slips.test3-mixed.binetflow.csv", "flowcsv", 89, []string{"start_time", "src_addr", "dst_addr", "dir"}, nil},
		{"netflow/slips.test11-portscan.binetflow.csv", "flowcsv", 66, []string{"src_addr", "dport", "state"}, nil},
		{"netflow/slips.test4-malicious.binetflow.csv", "flowcsv", 394, []string{"src_addr", "tot_bytes"}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(samplesDir, tc.file))
			if errors.Is(err, os.ErrNotExist) {
				t.Skip("sample not present")
			}
			if err != nil {
				t.Fatal(err)
			}
			d, err := decode.New(tc.decoder, bytes.NewReader(data), decode.Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			some := map[string]bool{}
			events := map[string]int{}
			for rec, err := range decode.Records(context.Background(), d) {
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				n++
				for _, f := range tc.fields {
					if _, ok := rec[f]; !ok {
						t.Errorf("record %d has no %s", n, f)
					}
				}
				for _, f := range tc.someFields {
					if _, ok := rec[f]; ok {
						some[f] = true
					}
				}
				if tc.decoder == "sshd" {
					checkAuthRecord(t, rec)
					ev, _ := rec.String("event")
					events[ev]++
				}
				if _, err := rec.AppendJSON(nil); err != nil {
					t.Errorf("record %d does not encode: %v", n, err)
				}
			}
			if len(events) > 0 {
				t.Logf("events: %v", events)
			}
			if tc.records >= 0 && n != tc.records {
				t.Errorf("%d records, want %d", n, tc.records)
			}
			for _, f := range tc.someFields {
				if !some[f] {
					t.Errorf("no record has %s", f)
				}
			}
		})
	}
}

// checkAuthRecord: an sshd record whose message names an address on a known event has it
// parsed out; "Failed password" and "Accepted" are always parsed.
func checkAuthRecord(t *testing.T, rec decode.Record) {
	t.Helper()
	msg, _ := rec.String("message")
	ev, _ := rec.String("event")
	if prog, _ := rec.String("program"); !strings.HasPrefix(prog, "sshd") {
		return
	}
	for _, prefix := range []string{"Failed password for", "Accepted "} {
		if strings.Contains(msg, prefix) && ev != "auth_failure" && ev != "auth_success" {
			t.Errorf("%q: event %q", msg, ev)
		}
	}
	if ev == "auth_failure" || ev == "auth_success" || ev == "invalid_user" {
		if _, ok := rec["user"]; !ok && rec["method"] != "pam" {
			t.Errorf("%q: no user", msg)
		}
	}
}
