package telemetry

import (
	"github.com/sectwin/sectwin/edge/decode"
)

// zeekAdapter maps Zeek logs (JSON or TSV), each record's log named by _path or, when the
// writer left it out, recognised by its fields:
//
//   - conn → flow: id.orig_h, id.resp_h, id.resp_p, proto, bytes orig_ip_bytes+resp_ip_bytes
//     (else orig_bytes+resp_bytes), packets orig_pkts+resp_pkts;
//   - ssh → auth: outcome from auth_success (a record without it, where no authentication was
//     seen, is skipped), principal Unknown (Zeek does not log the user), src id.orig_h, target
//     id.resp_h;
//   - ntlm → auth: outcome from success, principal domainname\username when logged, target
//     server_dns_computer_name or id.resp_h, method ntlm;
//   - any other log (dns, http, ssl, smtp…) is skipped ("zeek log <path>", or "zeek log
//     other" when the writer left _path out).
type zeekAdapter struct{}

// Adapt implements Adapter.
func (zeekAdapter) Adapt(rec decode.Record) ([]Event, error) { return adaptZeek(view{rec: rec}) }

// zeekPath names a record's log.
func zeekPath(v view) string {
	if p, ok := v.text("_path"); ok {
		return p
	}
	switch {
	case v.has("conn_state") || v.has("history") || v.has("orig_ip_bytes") || v.has("orig_pkts"):
		return "conn"
	case v.has("auth_success") || v.has("auth_attempts") || v.has("host_key"):
		return "ssh"
	case v.has("server_nb_computer_name") || v.has("server_tree_name"):
		return "ntlm"
	}
	return ""
}

func adaptZeek(v view) ([]Event, error) {
	path := zeekPath(v)
	switch path {
	case "conn", "ssh", "ntlm":
	case "":
		return nil, skip("zeek log other")
	default:
		return nil, skip("zeek log %s", token(path))
	}
	ts, err := v.time("ts")
	if err != nil {
		return nil, err
	}
	ev := newEvent(SourceZeek, v.rec, 0, ts)
	switch path {
	case "conn":
		f, err := zeekConn(v)
		if err != nil {
			return nil, err
		}
		ev.Kind, ev.Flow = KindFlow, f
	case "ssh", "ntlm":
		key := "auth_success"
		if path == "ntlm" {
			key = "success"
		}
		x, ok := v.get(key)
		if !ok {
			return nil, skip("zeek %s without an authentication result", path)
		}
		success, isBool := x.(bool)
		if !isBool {
			return nil, fieldErr("record."+key, "not a boolean")
		}
		a := &Auth{Principal: Unknown, Outcome: OutcomeFailure, Src: v.firstOr("", "id.orig_h")}
		if success {
			a.Outcome = OutcomeSuccess
		}
		if path == "ssh" {
			a.Target = v.firstOr("", "id.resp_h")
		} else {
			a.Method = "ntlm"
			a.Target = v.firstOr("", "server_dns_computer_name", "server_nb_computer_name", "id.resp_h")
			if u, ok := v.text("username"); ok {
				a.Principal = u
				if d, ok := v.text("domainname"); ok {
					a.Principal = d + `\` + u
				}
			}
		}
		ev.Kind, ev.Auth = KindAuth, a
	}
	return []Event{ev}, nil
}

func zeekConn(v view) (*Flow, error) {
	src, ok := v.text("id.orig_h")
	if !ok {
		return nil, fieldErr("record.id.orig_h", "missing")
	}
	dst, ok := v.text("id.resp_h")
	if !ok {
		return nil, fieldErr("record.id.resp_h", "missing")
	}
	proto, ok := v.text("proto")
	if !ok {
		return nil, fieldErr("record.proto", "missing")
	}
	port, err := v.port("id.resp_p")
	if err != nil {
		return nil, err
	}
	f := &Flow{Src: src, Dst: dst, Proto: protoName(proto)}
	f.Port = flowPort(f.Proto, port)
	b, found, err := v.sum("orig_ip_bytes", "resp_ip_bytes")
	if err != nil {
		return nil, err
	}
	if !found {
		if b, _, err = v.sum("orig_bytes", "resp_bytes"); err != nil {
			return nil, err
		}
	}
	f.Bytes = b
	if f.Packets, _, err = v.sum("orig_pkts", "resp_pkts"); err != nil {
		return nil, err
	}
	return f, nil
}
