package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

// adapterCase converts input as source and expects these events (kind, time and payload;
// ids are checked apart), skip reasons and dead letters.
type adapterCase struct {
	name      string
	input     string
	want      []Event // Kind, Time and one payload
	skipped   map[string]int
	malformed int
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func flowEv(at string, f Flow) Event     { return Event{Kind: KindFlow, Time: ts(at), Flow: &f} }
func authEv(at string, a Auth) Event     { return Event{Kind: KindAuth, Time: ts(at), Auth: &a} }
func alertEv(at string, a Alert) Event   { return Event{Kind: KindAlert, Time: ts(at), Alert: &a} }
func metricEv(at string, m Metric) Event { return Event{Kind: KindMetric, Time: ts(at), Metric: &m} }

// runAdapterCases converts each case's input with Convert's machinery and compares.
func runAdapterCases(t *testing.T, source string, cases []adapterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []Event
			var bad []BadRecord
			c := Converter{Source: source, Twin: "plant", Now: testNow, DeadLetter: func(b BadRecord) { bad = append(bad, b) }}
			st, err := c.Run(context.Background(), strings.NewReader(tc.input), func(ev Event) error {
				got = append(got, ev)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				if !errors.Is(b.Err, ErrMalformed) {
					t.Errorf("dead letter %v does not match ErrMalformed", b.Err)
				}
				t.Logf("dead letter: record %d line %d: %v", b.Index, b.Line, b.Err)
			}
			if st.Malformed != tc.malformed || len(bad) != tc.malformed {
				t.Errorf("malformed %d (%d dead letters), want %d", st.Malformed, len(bad), tc.malformed)
			}
			skipped := tc.skipped
			if skipped == nil {
				skipped = map[string]int{}
			}
			if !maps.Equal(st.Skipped, skipped) {
				t.Errorf("skipped %v, want %v", st.Skipped, skipped)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d events, want %d:\n%s", len(got), len(tc.want), describeAll(got))
			}
			ids := map[string]bool{}
			for i, ev := range got {
				if ev.Twin != "plant" || ev.Source != DefaultSource(strings.TrimPrefix(ev.Source, "urn:sectwin:telemetry:")) || len(ev.ID) != 64 || ids[ev.ID] {
					t.Errorf("event %d: twin %q source %q id %q", i, ev.Twin, ev.Source, ev.ID)
				}
				ids[ev.ID] = true
				if describe(ev) != describe(tc.want[i]) {
					t.Errorf("event %d:\n got %s\nwant %s", i, describe(ev), describe(tc.want[i]))
				}
				if err := checkRoundTrip(ev, testNow()); err != nil {
					t.Error(err)
				}
			}
			if st.EventCount() != len(got) {
				t.Errorf("stats count %d events, %d sent", st.EventCount(), len(got))
			}
		})
	}
}

func describeAll(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(describe(e) + "\n")
	}
	return b.String()
}

func TestSuricata(t *testing.T) {
	runAdapterCases(t, SourceSuricata, []adapterCase{
		{
			name: "alert with a target, metadata and pseudonymised addresses",
			input: `{"timestamp":"2026-03-01T10:00:00.123456+0000","flow_id":1,"in_iface":"eth0","event_type":"alert","src_ip":"k2026q4:AAAAAAAAAAAAAAAAAAAAAA","src_port":51514,"dest_ip":"198.51.100.0/24","dest_port":80,"proto":"TCP",` +
				`"alert":{"action":"allowed","gid":1,"signature_id":2024468,"rev":3,"signature":"ET WEB_SPECIFIC_APPS OGNL Expression Injection","category":"Attempted User Privilege Gain","severity":1,` +
				`"source":{"ip":"k2026q4:AAAAAAAAAAAAAAAAAAAAAA","port":51514},"target":{"ip":"198.51.100.0/24","port":80},"metadata":{"mitre_technique_id":["T1190"],"signature_severity":["Major"]}}}`,
			want: []Event{alertEv("2026-03-01T10:00:00.123456Z", Alert{Source: "suricata", Rule: "2024468", Severity: "HIGH", Entity: "198.51.100.0/24",
				Message: "ET WEB_SPECIFIC_APPS OGNL Expression Injection", Technique: "T1190"})},
		},
		{
			name: "severities, critical metadata, no signature id",
			input: `{"timestamp":"2026-03-01T10:00:01.000000+0100","event_type":"alert","src_ip":"192.0.2.9","dest_ip":"10.0.0.2","proto":"UDP","alert":{"signature":"ET SCAN Sipvicious","severity":3}}
{"timestamp":"2026-03-01T10:00:02.000000+0000","event_type":"alert","src_ip":"192.0.2.9","dest_ip":"10.0.0.2","proto":"TCP","alert":{"signature_id":1,"signature":"x","severity":2,"metadata":{"signature_severity":["Critical"]}}}
{"timestamp":"2026-03-01T10:00:03.000000+0000","event_type":"alert","src_ip":"192.0.2.9","proto":"TCP","alert":{"signature_id":2,"signature":"y"}}`,
			want: []Event{
				alertEv("2026-03-01T09:00:01Z", Alert{Source: "suricata", Rule: "ET SCAN Sipvicious", Severity: "LOW", Entity: "10.0.0.2", Message: "ET SCAN Sipvicious"}),
				alertEv("2026-03-01T10:00:02Z", Alert{Source: "suricata", Rule: "1", Severity: "CRITICAL", Entity: "10.0.0.2", Message: "x"}),
				alertEv("2026-03-01T10:00:03Z", Alert{Source: "suricata", Rule: "2", Severity: "MEDIUM", Entity: "192.0.2.9", Message: "y"}),
			},
		},
		{
			name: "flow and netflow",
			input: `{"timestamp":"2026-03-01T10:05:00.000000+0000","event_type":"flow","src_ip":"10.0.0.5","src_port":50000,"dest_ip":"10.0.0.6","dest_port":443,"proto":"TCP","app_proto":"tls",` +
				`"flow":{"pkts_toserver":10,"pkts_toclient":8,"bytes_toserver":1200,"bytes_toclient":9000,"start":"2026-03-01T10:04:00.500000+0000","end":"2026-03-01T10:04:30.000000+0000","state":"closed"}}
{"timestamp":"2026-03-01T10:05:01.000000+0000","event_type":"netflow","src_ip":"10.0.0.5","dest_ip":"224.0.0.251","proto":"IPv6-ICMP","netflow":{"pkts":2,"bytes":180,"start":"2026-03-01T10:04:59.000000+0000"}}`,
			want: []Event{
				flowEv("2026-03-01T10:04:00.5Z", Flow{Src: "10.0.0.5", Dst: "10.0.0.6", Port: 443, Proto: "tcp", Bytes: 10200, Packets: 18}),
				flowEv("2026-03-01T10:04:59Z", Flow{Src: "10.0.0.5", Dst: "224.0.0.251", Port: 0, Proto: "ipv6-icmp", Bytes: 180, Packets: 2}),
			},
		},
		{
			name:  "anomaly",
			input: `{"timestamp":"2026-03-01T10:06:00.000000+0000","event_type":"anomaly","src_ip":"10.0.0.5","dest_ip":"10.0.0.6","proto":"UDP","anomaly":{"type":"decode","event":"ipv4.trunc_pkt","layer":"proto_detect"}}`,
			want:  []Event{alertEv("2026-03-01T10:06:00Z", Alert{Source: "suricata", Rule: "decode", Severity: "LOW", Entity: "10.0.0.6", Message: "ipv4.trunc_pkt (proto_detect)"})},
		},
		{
			name: "other event types are skipped, bad records dead-lettered",
			input: `{"timestamp":"2026-03-01T10:07:00.000000+0000","event_type":"dns","src_ip":"10.0.0.5","dns":{"type":"query","rrname":"example.com"}}
{"timestamp":"2026-03-01T10:07:00.000000+0000","event_type":"stats","stats":{"uptime":1}}
{"timestamp":"2026-03-01T10:07:00.000000+0000","event_type":"a weird type!"}
{"timestamp":"not a time","event_type":"alert","alert":{"signature_id":1}}
{"timestamp":"2026-03-01T10:07:00.000000+0000","event_type":"flow","src_ip":"10.0.0.5","dest_ip":"10.0.0.6","dest_port":"k2026q4:AAAA","proto":"TCP"}
{"timestamp":"2026-03-01T10:07:00.000000+0000","event_type":"flow","src_ip":"10.0.0.5","proto":"TCP"}
{"timestamp":"2026-03-01T10:07:00.000000+0000","event_type":"alert","alert":{"severity":1}}
{"timestamp":"2031-03-01T10:07:00.000000+0000","event_type":"alert","alert":{"signature_id":1}}
{"event_type":
not json`,
			skipped:   map[string]int{"suricata event_type dns": 1, "suricata event_type stats": 1, "suricata event_type other": 1},
			malformed: 7,
		},
	})
}

func TestZeek(t *testing.T) {
	runAdapterCases(t, SourceZeek, []adapterCase{
		{
			name: "conn in JSON without _path, relative and epoch ts",
			input: `{"ts":1700828217.314165,"uid":"CfykLO1IT1nVRJhLA3","id.orig_h":"192.168.1.9","id.orig_p":50820,"id.resp_h":"45.33.32.156","id.resp_p":443,"proto":"tcp","duration":0.2,"orig_bytes":0,"resp_bytes":0,"conn_state":"REJ","orig_pkts":1,"orig_ip_bytes":60,"resp_pkts":1,"resp_ip_bytes":40}
{"ts":22.335172,"uid":"C6ce9q3xECAsonga21","id.orig_h":"fe80::1","id.orig_p":61099,"id.resp_h":"ff02::1:3","id.resp_p":5355,"proto":"udp","orig_bytes":50,"resp_bytes":0,"conn_state":"S0","history":"D"}`,
			want: []Event{
				flowEv("2023-11-24T12:16:57.314165Z", Flow{Src: "192.168.1.9", Dst: "45.33.32.156", Port: 443, Proto: "tcp", Bytes: 100, Packets: 2}),
				flowEv("1970-01-01T00:00:22.335172Z", Flow{Src: "fe80::1", Dst: "ff02::1:3", Port: 5355, Proto: "udp", Bytes: 50}),
			},
		},
		{
			name: "conn in TSV",
			input: "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n" +
				"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\torig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\n" +
				"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tcount\tcount\tstring\tcount\tcount\n" +
				"1741176000.250000\tC1\t10.1.1.1\t40000\t10.1.1.2\t22\ttcp\tssh\t3000\t4000\tSF\t20\t22\n" +
				"1741176001.000000\tC2\tk2026q4:BBBB\t40001\t10.1.1.2\t-\ticmp\t-\t-\t-\tOTH\t-\t-\n",
			want: []Event{
				flowEv("2025-03-05T12:00:00.25Z", Flow{Src: "10.1.1.1", Dst: "10.1.1.2", Port: 22, Proto: "tcp", Bytes: 7000, Packets: 42}),
				flowEv("2025-03-05T12:00:01Z", Flow{Src: "k2026q4:BBBB", Dst: "10.1.1.2", Port: 0, Proto: "icmp"}),
			},
		},
		{
			name: "ssh and ntlm",
			input: `{"_path":"ssh","ts":"2018-03-24T17:16:39.739898Z","uid":"C2","id.orig_h":"10.0.0.227","id.orig_p":59849,"id.resp_h":"10.47.8.50","id.resp_p":22,"version":2,"auth_success":true,"auth_attempts":1}
{"_path":"ssh","ts":"2018-03-24T17:19:18.864751Z","uid":"C3","id.orig_h":"10.128.0.233","id.resp_h":"10.47.26.186","id.resp_p":22,"auth_success":false,"auth_attempts":3}
{"_path":"ssh","ts":"2018-03-24T17:19:19Z","uid":"C4","id.orig_h":"10.128.0.233","id.resp_h":"10.47.26.186","id.resp_p":22}
{"_path":"ntlm","ts":"2018-03-24T17:15:21.608646Z","uid":"C5","id.orig_h":"10.164.94.120","id.resp_h":"10.47.8.208","id.resp_p":445,"username":"Administrator","domainname":"FACTORY","server_dns_computer_name":"Snozberry.factory.oompa.loompa","success":false}
{"_path":"ntlm","ts":"2018-03-24T17:15:22Z","uid":"C6","id.orig_h":"10.164.94.120","id.resp_h":"10.47.8.208","success":"yes"}`,
			want: []Event{
				authEv("2018-03-24T17:16:39.739898Z", Auth{Principal: Unknown, Outcome: "success", Src: "10.0.0.227", Target: "10.47.8.50"}),
				authEv("2018-03-24T17:19:18.864751Z", Auth{Principal: Unknown, Outcome: "failure", Src: "10.128.0.233", Target: "10.47.26.186"}),
				authEv("2018-03-24T17:15:21.608646Z", Auth{Principal: `FACTORY\Administrator`, Outcome: "failure", Src: "10.164.94.120", Target: "Snozberry.factory.oompa.loompa", Method: "ntlm"}),
			},
			skipped:   map[string]int{"zeek ssh without an authentication result": 1},
			malformed: 1,
		},
		{
			name: "other logs are skipped",
			input: `{"_path":"dns","ts":1.5,"id.orig_h":"10.0.0.1","query":"example.com","proto":"udp"}
{"ts":2.5,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","server_name":"example.com","version":"TLSv12"}
{"_path":"conn","ts":"yesterday","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","proto":"tcp"}`,
			skipped:   map[string]int{"zeek log dns": 1, "zeek log other": 1},
			malformed: 1,
		},
	})
}

func TestFalco(t *testing.T) {
	runAdapterCases(t, SourceFalco, []adapterCase{
		{
			name: "container, pod and host entities; priorities; technique tag",
			input: `{"hostname":"node-3","output":"10:00:00.000000000: Critical Shell spawned (user=root container_id=4f2a)","priority":"Critical","rule":"Terminal shell in container","source":"syscall","tags":["container","mitre_execution","T1059"],"time":"2026-03-01T10:00:00.000000000Z","output_fields":{"container.id":"4f2a","container.name":"web","proc.cmdline":"bash"}}
{"hostname":"node-3","output":"x","priority":"Error","rule":"Read sensitive file","time":"2026-03-01T10:00:01Z","output_fields":{"container.id":"host","k8s.ns.name":"shop","k8s.pod.name":"cart-7d9"}}
{"hostname":"node-3","output":"y","priority":"Notice","rule":"Outbound connection","time":"2026-03-01T10:00:02Z","output_fields":{"container.id":"host","container.name":"host"}}
{"output":"z","priority":"Warning","rule":"open_from_cat","time":"2026-03-01T10:00:03Z","output_fields":{"evt.time.iso8601":1772359203000000000,"proc.cmdline":"cat /dev/null"}}`,
			want: []Event{
				alertEv("2026-03-01T10:00:00Z", Alert{Source: "falco", Rule: "Terminal shell in container", Severity: "CRITICAL", Entity: "web",
					Message: "10:00:00.000000000: Critical Shell spawned (user=root container_id=4f2a)", Technique: "T1059"}),
				alertEv("2026-03-01T10:00:01Z", Alert{Source: "falco", Rule: "Read sensitive file", Severity: "HIGH", Entity: "shop/cart-7d9", Message: "x"}),
				alertEv("2026-03-01T10:00:02Z", Alert{Source: "falco", Rule: "Outbound connection", Severity: "LOW", Entity: "node-3", Message: "y"}),
				alertEv("2026-03-01T10:00:03Z", Alert{Source: "falco", Rule: "open_from_cat", Severity: "MEDIUM", Entity: Unknown, Message: "z"}),
			},
		},
		{
			name: "time from output_fields, missing rule",
			input: `{"output":"z","priority":"Debug","rule":"r","output_fields":{"evt.time":1772359203000000000}}
{"output":"no rule","priority":"Warning","time":"2026-03-01T10:00:03Z"}`,
			want:      []Event{alertEv("2026-03-01T10:00:03Z", Alert{Source: "falco", Rule: "r", Severity: "LOW", Entity: Unknown, Message: "z"})},
			malformed: 1,
		},
	})
}

func TestWazuh(t *testing.T) {
	runAdapterCases(t, SourceWazuh, []adapterCase{
		{
			name: "sshd failure: alert and auth",
			input: `{"timestamp":"2026-03-01T10:00:00.123+0000","rule":{"level":5,"description":"sshd: authentication failed.","id":"5760","mitre":{"id":["T1110.001","T1021.004"],"tactic":["Credential Access"]},"firedtimes":2,"groups":["syslog","sshd","authentication_failed"]},` +
				`"agent":{"id":"003","name":"bastion-1","ip":"10.0.0.4"},"manager":{"name":"wazuh-manager"},"id":"1772359200.1","full_log":"Mar  1 10:00:00 bastion-1 sshd[1]: Failed password for alice from 198.51.100.7 port 40000 ssh2",` +
				`"decoder":{"parent":"sshd","name":"sshd"},"data":{"srcip":"198.51.100.7","srcport":"40000","dstuser":"alice"},"location":"/var/log/auth.log"}`,
			want: []Event{
				alertEv("2026-03-01T10:00:00.123Z", Alert{Source: "wazuh", Rule: "5760", Severity: "LOW", Entity: "bastion-1", Message: "sshd: authentication failed.", Technique: "T1110.001"}),
				authEv("2026-03-01T10:00:00.123Z", Auth{Principal: "alice", Outcome: "failure", Src: "198.51.100.7", Target: "bastion-1"}),
			},
		},
		{
			name: "levels; Windows logon success inside an OpenSearch hit",
			input: `{"timestamp":"2026-03-01T10:00:01Z","rule":{"level":12,"description":"Integrity checksum changed again.","id":"550"},"agent":{"id":"004"}}
{"timestamp":"2026-03-01T10:00:02Z","rule":{"level":15,"description":"Ransomware","id":"100100"},"manager":{"name":"m"}}
{"_index":"wazuh-alerts-4.x-2026.03.01","_id":"x","_source":{"timestamp":"2026-03-01T10:00:03.000+0100","rule":{"level":3,"description":"Windows logon success.","id":"60106","groups":["windows","authentication_success"]},` +
				`"agent":{"id":"005","name":"dc-1"},"data":{"win":{"eventdata":{"targetUserName":"k2026q4:CCCC","ipAddress":"10.0.0.9"}}},"GeoLocation":{"location":{"lat":52.3534,"lon":4.9087}}}}
{"timestamp":"2026-03-01T10:00:04Z","rule":{"level":8,"description":"authentication failure without a user","id":"5503","groups":["pam","authentication_failed"]},"agent":{"name":"a"}}`,
			want: []Event{
				alertEv("2026-03-01T10:00:01Z", Alert{Source: "wazuh", Rule: "550", Severity: "HIGH", Entity: "004", Message: "Integrity checksum changed again."}),
				alertEv("2026-03-01T10:00:02Z", Alert{Source: "wazuh", Rule: "100100", Severity: "CRITICAL", Entity: "m", Message: "Ransomware"}),
				alertEv("2026-03-01T09:00:03Z", Alert{Source: "wazuh", Rule: "60106", Severity: "LOW", Entity: "dc-1", Message: "Windows logon success."}),
				authEv("2026-03-01T09:00:03Z", Auth{Principal: "k2026q4:CCCC", Outcome: "success", Src: "10.0.0.9", Target: "dc-1", Location: "52.3534,4.9087"}),
				alertEv("2026-03-01T10:00:04Z", Alert{Source: "wazuh", Rule: "5503", Severity: "MEDIUM", Entity: "a", Message: "authentication failure without a user"}),
			},
		},
		{
			name: "placeholder timestamp and no rule",
			input: `{"timestamp":"year-month-dayThours:minuts:seconds+0000","rule":{"level":0,"description":"alert description","id":""},"agent":{"id":"001","name":"agent"}}
{"timestamp":"2026-03-01T10:00:04Z","agent":{"name":"a"}}`,
			malformed: 2,
		},
	})
}

func TestSSHD(t *testing.T) {
	runAdapterCases(t, SourceSSHD, []adapterCase{
		{
			name: "accepted, failed, repeated, PAM",
			input: "Mar  1 09:57:21 bullseye sshd[581]: Accepted publickey for vagrant from 192.168.121.1 port 56296 ssh2: RSA SHA256:1M4RzhMyWuFS/86uPY/ce2prh/dVTHW7iD2RhpquOZA\n" +
				"2026-03-01T09:58:00.5+00:00 eve sshd[2784424]: Failed password for invalid user root from 192.168.1.2 port 51182 ssh2\n" +
				"Mar  1 09:59:00 LabSZ sshd[24227]: message repeated 3 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]\n" +
				"Mar  1 09:59:01 LabSZ sshd[24228]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76  user=root\n" +
				"Mar  1 09:59:02 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4\n" +
				"Mar  1 09:59:03 vsk sudo: pam_unix(sudo:auth): authentication failure; logname=zbadguy uid=4001 euid=0 tty=/dev/pts/12 ruser=zbadguy rhost=  user=zbadguy\n" +
				"Mar  1 09:59:04 LabSZ sshd[24229]: Invalid user admin from 5.36.59.76\n" +
				"Mar  1 09:59:05 LabSZ sshd[24229]: pam_unix(sshd:session): session opened for user vagrant by (uid=0)\n" +
				"this is not syslog\n",
			want: []Event{
				authEv("2026-03-01T09:57:21Z", Auth{Principal: "vagrant", Outcome: "success", Src: "192.168.121.1", Target: "bullseye", Method: "publickey"}),
				authEv("2026-03-01T09:58:00.5Z", Auth{Principal: "root", Outcome: "failure", Src: "192.168.1.2", Target: "eve", Method: "password"}),
				authEv("2026-03-01T09:59:00Z", Auth{Principal: "root", Outcome: "failure", Src: "5.36.59.76", Target: "LabSZ", Method: "password"}),
				authEv("2026-03-01T09:59:00Z", Auth{Principal: "root", Outcome: "failure", Src: "5.36.59.76", Target: "LabSZ", Method: "password"}),
				authEv("2026-03-01T09:59:00Z", Auth{Principal: "root", Outcome: "failure", Src: "5.36.59.76", Target: "LabSZ", Method: "password"}),
				authEv("2026-03-01T09:59:02Z", Auth{Principal: Unknown, Outcome: "failure", Src: "218.188.2.4", Target: "combo", Method: "pam"}),
				authEv("2026-03-01T09:59:03Z", Auth{Principal: "zbadguy", Outcome: "failure", Target: "vsk", Method: "pam"}),
			},
			skipped:   map[string]int{"sshd pam failure logged twice": 1, "sshd event invalid_user": 1, "sshd event session_opened": 1},
			malformed: 1,
		},
	})
}

func TestFIWARE(t *testing.T) {
	runAdapterCases(t, SourceFIWARE, []adapterCase{
		{
			name: "traffic, key-values and normalized",
			input: `{"id":"urn:ngsi-ld:TrafficFlowObserved:v:1","type":"TrafficFlowObserved","dateObserved":"2026-03-01T10:10:00Z/2026-03-01T10:15:00Z","intensity":197,"occupancy":0.76,"averageVehicleSpeed":52.6,"laneId":1}
{"id":"TrafficFlowObserved-2","type":"TrafficFlowObserved","dateObservedTo":{"type":"DateTime","value":"2026-03-01T10:20:00Z"},"intensity":{"type":"Number","value":12}}`,
			want: []Event{
				metricEv("2026-03-01T10:15:00Z", Metric{Entity: "urn:ngsi-ld:TrafficFlowObserved:v:1", Name: "intensity", Value: 197, Unit: "vehicles"}),
				metricEv("2026-03-01T10:15:00Z", Metric{Entity: "urn:ngsi-ld:TrafficFlowObserved:v:1", Name: "occupancy", Value: 0.76}),
				metricEv("2026-03-01T10:15:00Z", Metric{Entity: "urn:ngsi-ld:TrafficFlowObserved:v:1", Name: "averageVehicleSpeed", Value: 52.6, Unit: "km/h"}),
				metricEv("2026-03-01T10:20:00Z", Metric{Entity: "TrafficFlowObserved-2", Name: "intensity", Value: 12, Unit: "vehicles"}),
			},
		},
		{
			name: "parking",
			input: `{"id":"urn:ngsi-ld:ParkingSpot:santander:3","type":"ParkingSpot","status":{"type":"Property","value":"occupied","observedAt":"2026-03-01T12:00:00Z"},"@context":["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]}
{"id":"spot-4","type":"ParkingSpot","status":{"type":"Text","value":"free","metadata":{"timestamp":{"type":"DateTime","value":"2026-03-01T12:01:00Z"}}}}
{"id":"spot-5","type":"ParkingSpot","status":"closed","dateModified":"2026-03-01T12:02:00Z"}
{"id":"porta-nova","type":"OffStreetParking","availableSpotNumber":{"type":"Number","value":120,"metadata":{"timestamp":{"type":"DateTime","value":"2026-03-01T12:03:00Z"}}},"totalSpotNumber":{"type":"Number","value":200}}
{"id":"street-9","type":"OnStreetParking","availableSpotNumber":3,"occupancy":0.9,"dateObserved":"2026-03-01T12:04:00Z"}`,
			want: []Event{
				metricEv("2026-03-01T12:00:00Z", Metric{Entity: "urn:ngsi-ld:ParkingSpot:santander:3", Name: "occupied", Value: 1}),
				metricEv("2026-03-01T12:01:00Z", Metric{Entity: "spot-4", Name: "occupied", Value: 0}),
				metricEv("2026-03-01T12:03:00Z", Metric{Entity: "porta-nova", Name: "availableSpotNumber", Value: 120, Unit: "spots"}),
				metricEv("2026-03-01T12:03:00Z", Metric{Entity: "porta-nova", Name: "occupancy", Value: 0.4}),
				metricEv("2026-03-01T12:04:00Z", Metric{Entity: "street-9", Name: "availableSpotNumber", Value: 3, Unit: "spots"}),
				metricEv("2026-03-01T12:04:00Z", Metric{Entity: "street-9", Name: "occupancy", Value: 0.9}),
			},
			skipped: map[string]int{"fiware ParkingSpot status closed": 1},
		},
		{
			name: "other types skipped; no time, a text measurement, not an entity",
			input: `{"id":"aq-1","type":"AirQualityObserved","dateObserved":"2026-03-01T12:00:00Z","co2":500}
{"id":"t-1","type":"TrafficFlowObserved","laneId":2,"dateObserved":"2026-03-01T12:00:00Z"}
{"id":"t-2","type":"TrafficFlowObserved","intensity":5}
{"id":"t-3","type":"TrafficFlowObserved","intensity":"many","dateObserved":"2026-03-01T12:00:00Z"}
{"coord":{"lon":-0.13,"lat":51.51},"id":2643743}`,
			skipped:   map[string]int{"fiware type AirQualityObserved": 1, "fiware TrafficFlowObserved without measurements": 1},
			malformed: 3,
		},
	})
}

func TestFlowCSV(t *testing.T) {
	runAdapterCases(t, SourceFlowCSV, []adapterCase{
		{
			name: "Argus: ICMP type and code, hex ports, an ARP row",
			input: "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label\n" +
				"2026/03/01 10:00:00.015000,1.26,icmp,10.8.0.69,0x0008,   ->,110.128.128.128,0x7208,ECO,0,,2,144,144,\n" +
				"2026/03/01 10:00:01.000000,0.1,tcp,10.8.0.69,52893,  <?>,192.168.2.12,22,CON,16,16,35,3766,1224,\n" +
				"2026/03/01 10:00:02.000000,0.0,arp,00:11:22:33:44:55,,  who,00:11:22:33:44:66,,INT,,,1,60,60,\n" +
				"2026/03/01 10:00:03.000000,0.0,udp,10.8.0.69,0x0035,   ->,10.8.0.1,0x01bb,INT,,,1,60,60,\n",
			want: []Event{
				flowEv("2026-03-01T10:00:00.015Z", Flow{Src: "10.8.0.69", Dst: "110.128.128.128", Port: 0, Proto: "icmp", Bytes: 144, Packets: 2}),
				flowEv("2026-03-01T10:00:01Z", Flow{Src: "10.8.0.69", Dst: "192.168.2.12", Port: 22, Proto: "tcp", Bytes: 3766, Packets: 35}),
				flowEv("2026-03-01T10:00:02Z", Flow{Src: "00:11:22:33:44:55", Dst: "00:11:22:33:44:66", Port: 0, Proto: "arp", Bytes: 60, Packets: 1}),
				flowEv("2026-03-01T10:00:03Z", Flow{Src: "10.8.0.69", Dst: "10.8.0.1", Port: 443, Proto: "udp", Bytes: 60, Packets: 1}),
			},
		},
		{
			name: "CICFlowMeter, both layouts",
			input: "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets, Label\n" +
				"10.0.0.1-10.0.0.2-1-80-6,10.0.0.1,1,10.0.0.2,80,6,01/03/2026 10:00:00,100,4,3,312.0,380.0,BENIGN\n" +
				"Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,TotLen Bwd Pkts,Label\n" +
				"x,10.0.0.3,53000,10.0.0.4,53,17,01/03/2026 10:00:01,100,1,1,40.0,1.2E2,CIC\n",
			want: []Event{
				flowEv("2026-03-01T10:00:00Z", Flow{Src: "10.0.0.1", Dst: "10.0.0.2", Port: 80, Proto: "tcp", Bytes: 692, Packets: 7}),
				flowEv("2026-03-01T10:00:01Z", Flow{Src: "10.0.0.3", Dst: "10.0.0.4", Port: 53, Proto: "udp", Bytes: 160, Packets: 2}),
			},
			malformed: 1, // the second layout's header is a row of the first table with the wrong field count
		},
		{
			name:    "not a flow table",
			input:   "id,temperature,dateObserved\nw-1,12.5,2026-03-01T10:00:00Z\nw-2,13,2026-03-01T10:05:00Z\n",
			skipped: map[string]int{"flowcsv row without flow columns": 2},
		},
		{
			name: "bad values",
			input: "SrcAddr,DstAddr,Dport,Proto,StartTime,TotBytes\n" +
				"10.0.0.1,10.0.0.2,70000,tcp,2026/03/01 10:00:00.000000,10\n" +
				"10.0.0.1,10.0.0.2,80,tcp,2026/03/01 10:00:00.000000,-10\n" +
				"10.0.0.1,10.0.0.2,80,,2026/03/01 10:00:00.000000,10\n" +
				"10.0.0.1,10.0.0.2,80,tcp,,10\n" +
				"10.0.0.1,10.0.0.2,80,tcp,2026/03/01 10:00:00.000000,10\n",
			want:      []Event{flowEv("2026-03-01T10:00:00Z", Flow{Src: "10.0.0.1", Dst: "10.0.0.2", Port: 80, Proto: "tcp", Bytes: 10})},
			malformed: 4,
		},
	})
}

func TestJSON(t *testing.T) {
	runAdapterCases(t, SourceJSON, []adapterCase{
		{
			name: "edge collector releases of every shape",
			input: `{"alert.signature":"ET SCAN","alert.signature_id":2001219,"alert.severity":2,"dest_ip":"k2026q4:DDDD","event_type":"alert","proto":"TCP","src_ip":"198.51.100.0/24","timestamp":"2026-03-01T10:00:00+0000"}
{"id.orig_h":"k2026q4:EEEE","id.resp_h":"10.0.0.2","id.resp_p":22,"proto":"tcp","ts":1772359200,"conn_state":"SF","orig_bytes":1,"resp_bytes":2}
{"rule":"Terminal shell in container","priority":"Warning","output":"shell","time":"2026-03-01T10:00:00Z","output_fields.container.name":"k2026q4:FFFF"}
{"rule.id":"5715","rule.level":3,"rule.description":"sshd: authentication success.","rule.groups":["sshd","authentication_success"],"agent.name":"bastion-1","data.dstuser":"k2026q4:GGGG","timestamp":"2026-03-01T10:00:00.000+0000"}
{"event":"auth_failure","host":"gw-1","method":"password","program":"sshd","src_ip":"203.0.113.0/24","ts":"2026-03-01T10:00:00Z","user":"k2026q4:HHHH"}
{"metric":"flows","partition.site":"depot-7","partition.proto":"tcp","value":41.7,"window_start":"2026-03-01T10:00:00Z","window_end":"2026-03-01T10:05:00Z"}
{"metric":"flows","value":3,"window_end":"2026-03-01T10:05:00Z","suppressed":true}
{"metric":"flows","value":3,"window_end":"2026-03-01T10:05:00Z"}
{"id":"spot-1","type":"ParkingSpot","status":"occupied","dateObserved":"2026-03-01T10:00:00Z"}
{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","dport":443,"proto":"tcp","start_time":"2026-03-01T10:00:00Z","tot_bytes":5}
{"hello":"world"}`,
			want: []Event{
				alertEv("2026-03-01T10:00:00Z", Alert{Source: "suricata", Rule: "2001219", Severity: "MEDIUM", Entity: "k2026q4:DDDD", Message: "ET SCAN"}),
				flowEv("2026-03-01T10:00:00Z", Flow{Src: "k2026q4:EEEE", Dst: "10.0.0.2", Port: 22, Proto: "tcp", Bytes: 3}),
				alertEv("2026-03-01T10:00:00Z", Alert{Source: "falco", Rule: "Terminal shell in container", Severity: "MEDIUM", Entity: "k2026q4:FFFF", Message: "shell"}),
				alertEv("2026-03-01T10:00:00Z", Alert{Source: "wazuh", Rule: "5715", Severity: "LOW", Entity: "bastion-1", Message: "sshd: authentication success."}),
				authEv("2026-03-01T10:00:00Z", Auth{Principal: "k2026q4:GGGG", Outcome: "success", Target: "bastion-1"}),
				authEv("2026-03-01T10:00:00Z", Auth{Principal: "k2026q4:HHHH", Outcome: "failure", Src: "203.0.113.0/24", Target: "gw-1", Method: "password"}),
				metricEv("2026-03-01T10:05:00Z", Metric{Entity: "proto=tcp,site=depot-7", Name: "flows", Value: 41.7}),
				metricEv("2026-03-01T10:05:00Z", Metric{Entity: "all", Name: "flows", Value: 3}),
				metricEv("2026-03-01T10:00:00Z", Metric{Entity: "spot-1", Name: "occupied", Value: 1}),
				flowEv("2026-03-01T10:00:00Z", Flow{Src: "10.0.0.1", Dst: "10.0.0.2", Port: 443, Proto: "tcp", Bytes: 5}),
			},
			skipped: map[string]int{"edge aggregate suppressed": 1, "json record of unknown shape": 1},
		},
	})
}

func TestAdapterFor(t *testing.T) {
	for _, name := range append(decode.Names(), SourceFalco, SourceWazuh) {
		if _, ok := AdapterFor(name); !ok {
			t.Errorf("no adapter for %s", name)
		}
		dec, ok := DecoderFor(name)
		if !ok || !slices.Contains(decode.Names(), dec) {
			t.Errorf("decoder for %s: %q", name, dec)
		}
	}
	if !slices.IsSorted(Sources()) || len(Sources()) != len(decode.Names())+2 {
		t.Errorf("Sources() = %v", Sources())
	}
	for _, s := range Sources() {
		if _, ok := AdapterFor(s); !ok {
			t.Errorf("no adapter for %s", s)
		}
	}
	if _, ok := AdapterFor("syslog"); ok {
		t.Error("adapter for syslog")
	}
}

func TestConvert(t *testing.T) {
	input := "Mar  1 09:57:21 h sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2\n" +
		"Mar  1 09:57:21 h sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2\n" +
		"garbage\n" +
		"Mar  1 09:57:22 h sshd[2]: Failed password for b from 192.0.2.2 port 2 ssh2\n"
	collect := func(c Converter) ([]Event, Stats, []BadRecord, error) {
		var evs []Event
		var bad []BadRecord
		c.DeadLetter = func(b BadRecord) { bad = append(bad, b) }
		st, err := c.Run(context.Background(), strings.NewReader(input), func(e Event) error {
			evs = append(evs, e)
			return nil
		})
		return evs, st, bad, err
	}
	c := Converter{Source: SourceSSHD, Twin: "plant", Now: testNow}
	first, st, bad, err := collect(c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 4 || st.EventCount() != 3 || st.Malformed != 1 {
		t.Errorf("stats %+v", st)
	}
	t.Run("dead letter", func(t *testing.T) {
		if len(bad) != 1 || bad[0].Index != 3 || bad[0].Line != 3 || string(bad[0].Raw) != "garbage" || !errors.Is(bad[0].Err, decode.ErrMalformed) || !errors.Is(bad[0].Err, ErrMalformed) {
			t.Errorf("dead letters %+v", bad)
		}
	})
	t.Run("ids are stable and positional", func(t *testing.T) {
		again, _, _, _ := collect(c)
		for i := range first {
			if first[i].ID != again[i].ID {
				t.Errorf("event %d: id %s, then %s", i, first[i].ID, again[i].ID)
			}
		}
		if first[0].ID == first[1].ID {
			t.Error("two identical lines share an id")
		}
	})
	t.Run("event source", func(t *testing.T) {
		c := c
		c.EventSource = "urn:sectwin:site:depot-7"
		evs, _, _, err := collect(c)
		if err != nil || evs[0].Source != c.EventSource {
			t.Errorf("source %q, %v", evs[0].Source, err)
		}
		if evs[0].ID != first[0].ID {
			t.Error("the event source changed the id")
		}
	})
	t.Run("fn error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		_, err := c.Run(context.Background(), strings.NewReader(input), func(Event) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("err %v after %d events", err, n)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Run(ctx, strings.NewReader(input), func(Event) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, tc := range []struct {
			c    Converter
			want error
		}{
			{Converter{Source: "syslog", Twin: "plant"}, ErrUnknownSource},
			{Converter{Source: SourceSSHD, Twin: "Plant!"}, ErrMalformed},
			{Converter{Source: SourceSSHD, Twin: "plant", EventSource: "a\x00b"}, ErrMalformed},
		} {
			if _, err := tc.c.Run(context.Background(), strings.NewReader(input), func(Event) error { return nil }); !errors.Is(err, tc.want) {
				t.Errorf("%+v: err %v, want %v", tc.c, err, tc.want)
			}
		}
	})
	t.Run("Convert", func(t *testing.T) {
		st, err := Convert(context.Background(), SourceSSHD, strings.NewReader(input), "plant", func(Event) error { return nil })
		if err != nil || st.EventCount() != 3 {
			t.Errorf("%+v %v", st, err)
		}
	})
	t.Run("a record whose events do not validate is dead-lettered whole", func(t *testing.T) {
		var bad []BadRecord
		c := Converter{Source: SourceSSHD, Twin: "plant", Now: testNow, DeadLetter: func(b BadRecord) { bad = append(bad, b) }}
		long := strings.Repeat("u", MaxFieldBytes+1)
		st, err := c.Run(context.Background(), strings.NewReader("Mar  1 09:57:21 h sshd[1]: Accepted password for "+long+" from 192.0.2.1 port 1 ssh2\n"),
			func(Event) error { return nil })
		if err != nil || st.EventCount() != 0 || st.Malformed != 1 || len(bad) != 1 {
			t.Fatalf("%+v %v", st, err)
		}
		if fe, ok := errors.AsType[*FieldError](bad[0].Err); !ok || fe.Field != "data.principal" || !strings.Contains(string(bad[0].Raw), `"user":"uuu`) {
			t.Errorf("dead letter %v %s", bad[0].Err, bad[0].Raw)
		}
	})
	t.Run("skip reasons are bounded", func(t *testing.T) {
		var b strings.Builder
		for i := range maxSkipReasons + 10 {
			b.WriteString(`{"timestamp":"2026-03-01T10:00:00+0000","event_type":"t` + strings.Repeat("x", i%40) + string(rune('a'+i/40)) + `"}` + "\n")
		}
		st, err := Convert(context.Background(), SourceSuricata, strings.NewReader(b.String()), "plant", func(Event) error { return nil })
		if err != nil || len(st.Skipped) > maxSkipReasons || st.Skipped["other"] == 0 {
			t.Errorf("%d reasons, other %d, %v", len(st.Skipped), st.Skipped["other"], err)
		}
	})
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string // "" for an error
	}{
		{"2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"},
		{"2026-03-01T10:00:00.123456+0100", "2026-03-01T09:00:00.123456Z"},
		{"2026-03-01 10:00:00", "2026-03-01T10:00:00Z"},
		{"2026-03-01", "2026-03-01T00:00:00Z"},
		{"2026-03-01T10:00:00Z/2026-03-01T10:05:00Z", "2026-03-01T10:05:00Z"},
		{"1772359200", "2026-03-01T10:00:00Z"},
		{"1772359200.5", "2026-03-01T10:00:00.5Z"},
		{jsonNumber("1772359200123"), "2026-03-01T10:00:00.123Z"},
		{jsonNumber("1772359200123456"), "2026-03-01T10:00:00.123456Z"},
		{jsonNumber("1772359200123456789"), "2026-03-01T10:00:00.123456789Z"},
		{jsonNumber("1.7723592e9"), "2026-03-01T10:00:00Z"},
		{float64(1772359200), "2026-03-01T10:00:00Z"},
		{int64(1772359200), "2026-03-01T10:00:00Z"},
		{"-1", "1969-12-31T23:59:59Z"},
		{"yesterday", ""},
		{"", ""},
		{jsonNumber("1e300"), ""},
		{jsonNumber("99999999999999999999"), ""},
		{true, ""},
	} {
		got, err := parseTime(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%v: %v, want an error", tc.in, got)
		case tc.want != "" && (err != nil || !got.Equal(ts(tc.want))):
			t.Errorf("%v: %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

func jsonNumber(s string) any { return json.Number(s) }
