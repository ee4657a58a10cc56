package rawjson

import "encoding/json"

// Strings reads raw as a list of strings the lenient way free-form members (database_specific,
// cwes) call for: the string items of an array, or a single string. Empty strings and items of
// other kinds are dropped; anything else (absent, null, an object, a number) gives nil.
func Strings(raw []byte) []string {
	switch Kind(raw) {
	case "string":
		if s, _ := String(raw); s != "" {
			return []string{s}
		}
	case "array":
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		var out []string
		for _, it := range items {
			if s, ok := String(it); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
