package decode

import (
	"io"
	"maps"
	"slices"
	"strconv"
)

// NewFIWARE decodes FIWARE smart-data-models entities into one record each, flattened to
// attribute → value:
//
//   - NGSI-v2 normalized: {"id", "type", "temperature": {"type": "Number", "value": 12.2,
//     "metadata": {...}}} gives id, type, temperature=12.2 and temperature.metadata.<name>;
//   - key-values: {"id", "type", "temperature": 12.2} gives the same temperature=12.2;
//   - NGSI-LD: Property and GeoProperty take their "value", Relationship its "object",
//     LanguageProperty its "languageMap"; observedAt, unitCode and sub-properties become
//     <attr>.<name>; "@context" is dropped.
//
// Structured values are flattened further (address.streetAddress, location.type,
// location.coordinates), and arrays are kept whole. Input is JSON lines or pretty-printed JSON
// (see NewJSON); a top-level array, or a notification's "data" array, yields one record per
// entity. Every entity needs string "id" and "type".
func NewFIWARE(r io.Reader, opts Options) Decoder {
	j := newJSONReader("fiware", r, opts, nil)
	j.tree = fiwareRecords
	return j
}

func fiwareRecords(v any, out []Record) ([]Record, string) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			rec, reason := fiwareEntity(e)
			if reason != "" {
				return nil, "array element " + strconv.Itoa(i+1) + ": " + reason
			}
			out = append(out, rec)
		}
		return out, ""
	case map[string]any:
		// A subscription notification (NGSI-v2 and NGSI-LD): {"subscriptionId", "data": [...]}.
		if data, ok := v["data"].([]any); ok {
			if _, ok := v["subscriptionId"]; ok {
				return fiwareRecords(data, out)
			}
		}
		rec, reason := fiwareEntity(v)
		if reason != "" {
			return nil, reason
		}
		return append(out, rec), ""
	}
	return nil, "not an NGSI entity: want a JSON object or an array of them"
}

func fiwareEntity(v any) (Record, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "not an NGSI entity: want a JSON object"
	}
	id, ok := m["id"].(string)
	if !ok {
		return nil, "not an NGSI entity: no string id"
	}
	typ, ok := m["type"].(string)
	if !ok {
		return nil, "not an NGSI entity: no string type"
	}
	rec := make(Record, len(m)+4)
	rec["id"], rec["type"] = id, typ
	for _, k := range sortedKeys(m) { // sorted: colliding flattened names resolve the same way every time
		a := m[k]
		switch k {
		case "id", "type", "@context":
			continue
		}
		fiwareAttr(rec, k, a)
	}
	return rec, ""
}

// ngsiValueKeys hold an attribute's value: NGSI-v2 and LD Property/GeoProperty "value",
// Relationship "object", LanguageProperty "languageMap", VocabProperty "vocab",
// JsonProperty "json".
var ngsiValueKeys = []string{"value", "object", "languageMap", "vocab", "json"}

// ngsiMetaKeys are NGSI-LD attribute members that describe the value; they are kept as
// <attr>.<name> without further interpretation.
var ngsiMetaKeys = map[string]bool{
	"observedAt": true, "unitCode": true, "datasetId": true, "createdAt": true,
	"modifiedAt": true, "instanceId": true, "deletedAt": true, "lang": true,
}

// ngsiValue returns an attribute's value when a is a normalized attribute.
func ngsiValue(a map[string]any) (any, string, bool) {
	if _, ok := a["type"].(string); !ok {
		return nil, "", false
	}
	for _, k := range ngsiValueKeys {
		if v, ok := a[k]; ok {
			return v, k, true
		}
	}
	return nil, "", false
}

func fiwareAttr(rec Record, key string, a any) {
	switch a := a.(type) {
	case map[string]any:
		v, vk, ok := ngsiValue(a)
		if !ok {
			flattenInto(rec, key, a) // key-values form
			return
		}
		flattenInto(rec, key, v)
		for _, k := range sortedKeys(a) {
			sub := a[k]
			switch {
			case k == "type" || k == vk:
			case k == "metadata":
				if md, ok := sub.(map[string]any); ok {
					for _, mk := range sortedKeys(md) {
						fiwareAttr(rec, key+".metadata."+mk, md[mk])
					}
				}
			case ngsiMetaKeys[k]:
				flattenInto(rec, key+"."+k, sub)
			default: // an NGSI-LD sub-property or sub-relationship
				fiwareAttr(rec, key+"."+k, sub)
			}
		}
	case []any:
		// NGSI-LD multi-attribute: instances with datasetIds. Keep their values.
		vals := make([]any, 0, len(a))
		for _, e := range a {
			m, ok := e.(map[string]any)
			if !ok {
				rec[key] = a
				return
			}
			v, _, ok := ngsiValue(m)
			if !ok {
				rec[key] = a
				return
			}
			vals = append(vals, v)
		}
		rec[key] = vals
	default:
		rec[key] = a
	}
}

// flattenInto stores v under key, flattening objects into dotted keys; an empty object is
// kept as an empty map.
func flattenInto(rec Record, key string, v any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		rec[key] = v
		return
	}
	for _, k := range sortedKeys(m) {
		flattenInto(rec, key+"."+k, m[k])
	}
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
