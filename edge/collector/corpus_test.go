package collector_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/decode"
	"github.com/sectwin/sectwin/edge/transform"
)

// samplesDir holds the shared, real telemetry samples (../shared/samples/SOURCES.md), read in
// place and never copied into the repository.
var samplesDir = filepath.Join("..", "..", "..", "shared", "samples", "telemetry")

// corpusPipeline minimises every kind of sample: addresses generalised, identities
// pseudonymised, free text scrubbed of addresses and emails, everything else dropped.
const corpusPipeline = `pipelines:
  corpus:
    allow_fields: [ts, timestamp, time, event, event_type, proto, dest_port, dst_port, destination_port, dport, id.resp_p,
      src_ip, dest_ip, src_addr, dst_addr, source_ip, destination_ip, dst_ip, id.orig_h, id.resp_h, _source.data.srcip,
      user, username, host, src_host, orig_l2_addr, resp_l2_addr, alert.signature, rule, rule.level, output, message,
      location.coordinates, coord.lat, intensity, co2, temperature, status]
    blocked_values:
      - '[\w.+-]+@[\w-]+(\.[\w-]+)+'
      - '\b([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b'
      - '\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b'
      - '\b[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{0,4}){2,7}\b'
    generalize:
      src_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      dest_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      src_addr: {ipv4_prefix: 24, ipv6_prefix: 48}
      dst_addr: {ipv4_prefix: 24, ipv6_prefix: 48}
      source_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      destination_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      dst_ip: {ipv4_prefix: 24, ipv6_prefix: 48}
      id.orig_h: {ipv4_prefix: 24, ipv6_prefix: 48}
      id.resp_h: {ipv4_prefix: 24, ipv6_prefix: 48}
      _source.data.srcip: {ipv4_prefix: 24, ipv6_prefix: 48}
      location.coordinates: {geohash: 5}
      coord.lat: {buckets: [-90, -45, 0, 45, 90]}
    pseudonymize: {fields: [user, username, host, src_host, orig_l2_addr, resp_l2_addr], key_ref: "env:CORPUS_KEY", key_id: c1}
`

var (
	ipv4Token = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(/\d+)?`)
	macToken  = regexp.MustCompile(`\b([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b`)
	mailToken = regexp.MustCompile(`[\w.+-]+@[\w-]+(\.[\w-]+)+`)
)

// TestCorpusThroughAPipeline sends every shared telemetry sample through a minimising pipeline
// and checks what leaves it: no full IPv4 address (only /24 prefixes), no MAC address, no email,
// and none of the identities the pipeline pseudonymises.
func TestCorpusThroughAPipeline(t *testing.T) {
	if _, err := os.Stat(samplesDir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("no shared samples at %s", samplesDir)
	}
	t.Setenv("CORPUS_KEY", "corpus-test-pseudonymisation-key")
	doc, err := transform.Parse("corpus.yaml", []byte(corpusPipeline))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := transform.Compile(doc.Pipelines["corpus"])
	if err != nil {
		t.Fatal(err)
	}
	decoders := map[string]string{"auth-logs": "sshd", "suricata-eve": "suricata", "zeek": "zeek", "netflow": "flowcsv",
		"falco": "json", "wazuh": "json"}
	files, err := filepath.Glob(filepath.Join(samplesDir, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, file := range files {
		kind := filepath.Base(filepath.Dir(file))
		name := decoders[kind]
		if kind == "iot-sensor" {
			switch {
			case strings.HasPrefix(filepath.Base(file), "sdm.") && !strings.HasSuffix(file, ".csv"):
				name = "fiware"
			case strings.HasSuffix(file, ".csv"):
				name = "flowcsv"
			default:
				name = "json"
			}
		}
		if name == "" {
			continue
		}
		t.Run(kind+"/"+filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d, err := decode.New(name, bytes.NewReader(data), decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var raw, out []byte
			identities := map[string]bool{}
			var enc decode.Encoder
			records := 0
			for rec, err := range decode.Records(t.Context(), d) {
				if err != nil {
					if decode.IsRecordError(err) {
						continue // malformed lines are the dead-letter file's, not the output's
					}
					t.Fatal(err)
				}
				records++
				if raw, err = enc.Append(raw[:0], rec); err != nil {
					t.Fatal(err)
				}
				for _, f := range []string{"user", "username", "host", "src_host", "orig_l2_addr", "resp_l2_addr"} {
					if v, ok := rec.Text(f); ok && len(v) >= 4 {
						identities[v] = true
					}
				}
				minimised, dropped, err := plan.Apply(rec)
				if err != nil || dropped {
					continue
				}
				if out, err = enc.Append(out, minimised); err != nil {
					t.Fatal(err)
				}
				out = append(out, '\n')
			}
			if records == 0 {
				t.Skip("no records in this sample")
			}
			text := string(out)
			for _, m := range ipv4Token.FindAllString(text, -1) {
				if !strings.HasSuffix(m, ".0/24") {
					t.Errorf("a full IPv4 address left the pipeline: %s", m)
				}
			}
			if m := macToken.FindString(text); m != "" {
				t.Errorf("a MAC address left the pipeline: %s", m)
			}
			if m := mailToken.FindString(text); m != "" {
				t.Errorf("an email address left the pipeline: %s", m)
			}
			for id := range identities {
				if strings.Contains(text, `:"`+id+`"`) {
					t.Errorf("a pseudonymised identity left the pipeline in the clear: %q", id)
				}
			}
			passed++
		})
	}
	if passed == 0 {
		t.Fatal("no sample went through the pipeline")
	}
}
