package telemetry

import (
	"github.com/sectwin/sectwin/edge/decode"
)

// flowColumns names, in edge/decode's snake_case, the columns of the flow tables
// flowCSVAdapter reads: CICFlowMeter (CIC-IDS2017 and CSE-CIC-IDS2018 layouts), Argus ra and
// nfdump CSV. Bytes and packets are totals, or pairs to add up.
type flowColumns struct {
	src, dst, port, proto, time []string
	bytes, packets              [][]string
}

func flowCols() flowColumns {
	return flowColumns{
		src:   []string{"src_addr", "source_ip", "src_ip", "srcaddr", "sa"},
		dst:   []string{"dst_addr", "destination_ip", "dst_ip", "dstaddr", "da"},
		port:  []string{"dport", "destination_port", "dst_port", "dp"},
		proto: []string{"proto", "protocol", "pr"},
		time:  []string{"start_time", "stime", "timestamp", "ts", "first_seen"},
		bytes: [][]string{
			{"tot_bytes"}, {"bytes"}, {"ibyt", "obyt"},
			{"total_length_of_fwd_packets", "total_length_of_bwd_packets"},
			{"tot_len_fwd_pkts", "tot_len_bwd_pkts"},
		},
		packets: [][]string{
			{"tot_pkts"}, {"packets"}, {"ipkt", "opkt"},
			{"total_fwd_packets", "total_backward_packets"},
			{"tot_fwd_pkts", "tot_bwd_pkts"},
		},
	}
}

// flowCSVAdapter maps the rows of flow tables to flows: source and destination address,
// destination port (Argus' hex ports read as numbers; 0 when there is none, and for ICMP,
// whose type and code Argus writes there), protocol (IANA numbers named: 6 tcp, 17 udp,
// 1 icmp…), bytes and packets both ways, and the flow's start time. A row without source and
// destination columns is skipped.
type flowCSVAdapter struct{}

// Adapt implements Adapter.
func (flowCSVAdapter) Adapt(rec decode.Record) ([]Event, error) { return adaptFlowCSV(view{rec: rec}) }

func isFlowRow(v view) bool {
	c := flowCols()
	_, src := v.first(c.src...)
	_, dst := v.first(c.dst...)
	return src && dst
}

func adaptFlowCSV(v view) ([]Event, error) {
	c := flowCols()
	src, ok := v.first(c.src...)
	if !ok {
		return nil, skip("flowcsv row without flow columns")
	}
	dst, ok := v.first(c.dst...)
	if !ok {
		return nil, skip("flowcsv row without flow columns")
	}
	proto, ok := v.first(c.proto...)
	if !ok {
		return nil, fieldErr("record.proto", "missing")
	}
	port, err := v.port(c.port...)
	if err != nil {
		return nil, err
	}
	ts, err := v.time(c.time...)
	if err != nil {
		return nil, err
	}
	f := &Flow{Src: src, Dst: dst, Proto: protoName(proto)}
	f.Port = flowPort(f.Proto, port)
	for _, cols := range c.bytes {
		n, found, err := v.sum(cols...)
		if err != nil {
			return nil, err
		}
		if found {
			f.Bytes = n
			break
		}
	}
	for _, cols := range c.packets {
		n, found, err := v.sum(cols...)
		if err != nil {
			return nil, err
		}
		if found {
			f.Packets = n
			break
		}
	}
	ev := newEvent(SourceFlowCSV, v.rec, 0, ts)
	ev.Kind, ev.Flow = KindFlow, f
	return []Event{ev}, nil
}
