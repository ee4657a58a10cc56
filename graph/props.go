package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j/dbtype"
)

// coerce converts v, as decoded from JSON, YAML or GraphQL, to the Go type Neo4j stores for t.
// nil stays nil: setting a property to null removes it.
func coerce(t PropType, v any) (any, error) {
	switch v.(type) {
	case string, bool, int64, float64, []string, nil:
		// The common types need no unwrapping.
	default:
		v = unwrap(v)
	}
	if v == nil {
		return nil, nil
	}
	switch t {
	case PropString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case PropBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case PropInt:
		return toInt(v)
	case PropFloat:
		return toFloat(v)
	case PropTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			ts, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("want an RFC 3339 date-time, got %q", x)
			}
			return ts.UTC(), nil
		}
	case PropStrings:
		switch x := v.(type) {
		case []string:
			return x, nil
		case []any:
			out := make([]string, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("want a list of strings, item %d is %T", i, e)
				}
				out[i] = s
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("want %s, got %s", t, describe(v))
}

// unwrap dereferences pointers (GraphQL inputs arrive as *string, *bool…) and turns named
// string types (enums) into plain strings.
func unwrap(v any) any {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	if n, ok := rv.Interface().(json.Number); ok {
		return n
	}
	if rv.Kind() == reflect.String {
		return rv.String()
	}
	return rv.Interface()
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("want an integer, got %v", x)
		}
		return int64(x), nil
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer, got %s", x)
		}
		return n, nil
	}
	return nil, fmt.Errorf("want an integer, got %s", describe(v))
}

func toFloat(v any) (any, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("want a number, got %s", x)
		}
		f = n
	default:
		return nil, fmt.Errorf("want a number, got %s", describe(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("want a finite number, got %v", f)
	}
	return f, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", truncate(x, 40))
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decodeInto sets the db-tagged fields of the struct dst points to from Neo4j properties.
// Properties that are absent or of an unexpected type leave their field at its zero value.
func decodeInto(dst any, props map[string]any) {
	decodeValue(reflect.ValueOf(dst).Elem(), props)
}

func decodeValue(v reflect.Value, props map[string]any) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		name, ok := dbName(f)
		if !ok {
			if f.Type.Kind() == reflect.Struct && f.Type != typeTime {
				decodeValue(fv, props)
			}
			continue
		}
		raw, present := props[name]
		if !present || raw == nil {
			continue
		}
		setField(fv, raw)
	}
}

func dbName(f reflect.StructField) (string, bool) {
	tag, ok := f.Tag.Lookup("db")
	if !ok {
		return "", false
	}
	for i := range len(tag) {
		if tag[i] == ',' {
			return tag[:i], true
		}
	}
	return tag, true
}

func setField(fv reflect.Value, raw any) {
	if fv.Kind() == reflect.Pointer {
		v := reflect.New(fv.Type().Elem())
		setField(v.Elem(), raw)
		fv.Set(v)
		return
	}
	switch {
	case fv.Type() == typeTime:
		switch x := raw.(type) {
		case time.Time:
			fv.Set(reflect.ValueOf(x.UTC()))
		case dbtype.LocalDateTime:
			fv.Set(reflect.ValueOf(x.Time().UTC()))
		}
	case fv.Type() == typeStrings:
		list, _ := raw.([]any)
		out := make([]string, 0, len(list))
		for _, e := range list {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		fv.Set(reflect.ValueOf(out))
	default:
		switch fv.Kind() {
		case reflect.String:
			if s, ok := raw.(string); ok {
				fv.SetString(s)
			}
		case reflect.Bool:
			if b, ok := raw.(bool); ok {
				fv.SetBool(b)
			}
		case reflect.Int, reflect.Int64:
			if n, ok := raw.(int64); ok {
				fv.SetInt(n)
			}
		case reflect.Float64:
			switch n := raw.(type) {
			case float64:
				fv.SetFloat(n)
			case int64:
				fv.SetFloat(float64(n))
			}
		}
	}
}
