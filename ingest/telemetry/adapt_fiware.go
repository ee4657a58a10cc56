package telemetry

import (
	"github.com/sectwin/sectwin/edge/decode"
)

// fiwareAdapter maps FIWARE smart-data-models observations (NGSI-v2 normalized or key-values,
// or NGSI-LD) to metrics whose entity is the FIWARE entity id:
//
//   - TrafficFlowObserved: intensity (vehicles), occupancy (a fraction) and
//     averageVehicleSpeed (km/h), each when present;
//   - ParkingSpot: occupied, 1 when status is occupied and 0 when free (other statuses,
//     closed or unknown, are skipped);
//   - OffStreetParking and OnStreetParking: availableSpotNumber, and occupancy (its own, or
//     1 − available/total when totalSpotNumber is given).
//
// The time is the observation's (dateObserved, the end of an interval; an attribute's
// observedAt or timestamp metadata; else dateModified). Other entity types are skipped.
type fiwareAdapter struct{}

// Adapt implements Adapter.
func (fiwareAdapter) Adapt(rec decode.Record) ([]Event, error) { return adaptFIWARE(view{rec: rec}) }

// fiwareMetric is one attribute read as a metric.
type fiwareMetric struct{ attr, unit string }

func adaptFIWARE(v view) ([]Event, error) {
	id, ok := v.text("id")
	if !ok {
		return nil, fieldErr("record.id", "missing")
	}
	typ, ok := v.text("type")
	if !ok {
		return nil, fieldErr("record.type", "missing")
	}
	var ms []Metric
	var main string // the attribute whose own observation time counts
	switch typ {
	case "TrafficFlowObserved":
		main = "intensity"
		for _, m := range []fiwareMetric{{"intensity", "vehicles"}, {"occupancy", ""}, {"averageVehicleSpeed", "km/h"}} {
			f, ok, err := v.number(m.attr)
			if err != nil {
				return nil, err
			}
			if ok {
				ms = append(ms, Metric{Name: m.attr, Value: f, Unit: m.unit})
			}
		}
	case "ParkingSpot":
		main = "status"
		status, _ := v.text("status")
		switch status {
		case "occupied":
			ms = append(ms, Metric{Name: "occupied", Value: 1})
		case "free":
			ms = append(ms, Metric{Name: "occupied", Value: 0})
		default:
			return nil, skip("fiware ParkingSpot status %s", token(status))
		}
	case "OffStreetParking", "OnStreetParking":
		main = "availableSpotNumber"
		avail, okA, err := v.number("availableSpotNumber")
		if err != nil {
			return nil, err
		}
		total, okT, err := v.number("totalSpotNumber")
		if err != nil {
			return nil, err
		}
		occ, okO, err := v.number("occupancy")
		if err != nil {
			return nil, err
		}
		if okA {
			ms = append(ms, Metric{Name: "availableSpotNumber", Value: avail, Unit: "spots"})
		}
		switch {
		case okO:
			ms = append(ms, Metric{Name: "occupancy", Value: occ})
		case okA && okT && total > 0 && avail >= 0 && avail <= total:
			ms = append(ms, Metric{Name: "occupancy", Value: 1 - avail/total})
		}
	default:
		return nil, skip("fiware type %s", token(typ))
	}
	if len(ms) == 0 {
		return nil, skip("fiware %s without measurements", typ)
	}
	ts, err := v.time("dateObserved", main+".observedAt", main+".metadata.timestamp",
		"dateObservedTo", "dateObservedFrom", "observedAt", "dateModified", "dateCreated")
	if err != nil {
		return nil, err
	}
	evs := make([]Event, len(ms))
	for i := range ms {
		ms[i].Entity = id
		evs[i] = newEvent(SourceFIWARE, v.rec, i, ts)
		evs[i].Kind = KindMetric
		evs[i].Metric = &ms[i]
	}
	return evs, nil
}
