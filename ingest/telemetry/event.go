// Package telemetry is the operations twin's telemetry contract: CloudEvents 1.0 JSON on NATS
// subjects telemetry.<twin>.<kind>, one of five kinds (flow, auth, alert, metric, deploy), each
// with a JSON Schema in docs/telemetry/. Adapters map what real sources produce (Suricata EVE,
// Zeek, Falco, Wazuh, sshd auth lines, FIWARE observations, and the edge collector's released
// records) into these kinds.
//
// Docs: docs/telemetry.md.
package telemetry

import "time"

// Kinds of telemetry.
const (
	KindFlow   = "flow"
	KindAuth   = "auth"
	KindAlert  = "alert"
	KindMetric = "metric"
	KindDeploy = "deploy"
)

// Kinds lists every kind.
func Kinds() []string { return []string{KindFlow, KindAuth, KindAlert, KindMetric, KindDeploy} }

// SubjectPrefix is the root of telemetry subjects: telemetry.<twin>.<kind>.
const SubjectPrefix = "telemetry"

// Subject is where events of a kind about a twin are published.
func Subject(twin, kind string) string { return SubjectPrefix + "." + twin + "." + kind }

// EventType is the CloudEvents type of a kind: "io.sectwin.telemetry.<kind>".
func EventType(kind string) string { return "io.sectwin.telemetry." + kind }

// Event is one telemetry event as the operations twin consumes it: the CloudEvents envelope
// (ID, Source, Time) and exactly one payload, the one its Kind names.
type Event struct {
	ID     string    // CloudEvents id: unique per Source; (Source, ID) deduplicates
	Source string    // CloudEvents source: the sensor, collector or site
	Time   time.Time // when it happened
	Twin   string
	Kind   string
	// Subject is the optional CloudEvents subject: what the event is about, in the producer's
	// terms (an entity id, a host).
	Subject string

	Flow   *Flow
	Auth   *Auth
	Alert  *Alert
	Metric *Metric
	Deploy *Deploy
}

// Flow is an observed connection (or a window of them) between two endpoints.
type Flow struct {
	Src   string `json:"src"` // an address, host name or pseudonym
	Dst   string `json:"dst"`
	Port  int    `json:"port"`
	Proto string `json:"proto"` // tcp, udp, icmp…
	Bytes int64  `json:"bytes"`
	// Packets and Count are optional: Count is how many connections the event stands for (1
	// when zero), as when an edge collector aggregates a window.
	Packets int64 `json:"packets,omitempty"`
	Count   int64 `json:"count,omitempty"`
}

// Auth is an authentication attempt.
type Auth struct {
	Principal string `json:"principal"` // user or service account (may be a pseudonym)
	Outcome   string `json:"outcome"`   // success or failure
	Src       string `json:"src,omitempty"`
	Target    string `json:"target,omitempty"` // the host or service authenticated to
	Method    string `json:"method,omitempty"` // password, publickey…
	// Location, when known, is "lat,lon" (for impossible-travel checks).
	Location string `json:"location,omitempty"`
}

// Alert is a detection raised by a sensor about an entity.
type Alert struct {
	Source   string `json:"source"`   // suricata, falco, wazuh, zeek…
	Rule     string `json:"rule"`     // the rule's id or name
	Severity string `json:"severity"` // LOW, MEDIUM, HIGH or CRITICAL
	Entity   string `json:"entity"`   // the host, service or address it is about
	Message  string `json:"message,omitempty"`
	// Technique is a MITRE ATT&CK technique id when the sensor names one (T1110).
	Technique string `json:"technique,omitempty"`
}

// Metric is one measurement of an entity.
type Metric struct {
	Entity string  `json:"entity"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
}

// Deploy records that a service now runs an artifact digest.
type Deploy struct {
	Service string `json:"service"`
	Digest  string `json:"digest"` // sha256:…
	Host    string `json:"host,omitempty"`
}
