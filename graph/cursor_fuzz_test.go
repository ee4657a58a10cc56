package graph

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecodeCursor: after cursors come from clients; any string decodes or fails with
// ErrBadCursor, and a cursor Page made decodes back to its position.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("", "pkg:npm/a@1", 7.5)
	f.Add("eyJ2IjoxLCJrIjoiYSJ9", "k", -1.0)
	f.Add("!!", "", 0.0)
	f.Fuzz(func(t *testing.T, raw, key string, v float64) {
		for _, pt := range []PropType{PropString, PropFloat, PropInt, PropBool, PropTime} {
			if _, err := decodeCursor(raw, pt); err != nil && err != ErrBadCursor {
				t.Fatalf("decodeCursor(%q) = %v, want ErrBadCursor", raw, err)
			}
		}
		// Keys are valid UTF-8: writes refuse others (see Batch.validate).
		if key == "" || !utf8.ValidString(key) || v != v || v > 1e300 || v < -1e300 {
			return
		}
		c, err := decodeCursor(encodeCursor(v, key), PropFloat)
		if err != nil || c.K != key || c.V != v {
			t.Fatalf("cursor (%v, %q) came back as %+v, %v", v, key, c, err)
		}
	})
}
