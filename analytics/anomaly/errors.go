package anomaly

import (
	"errors"
	"time"
)

// Errors returned by the detectors. Observe methods return them unwrapped on the hot path (so
// that rejecting bad input allocates nothing); constructors wrap them with the offending value.
var (
	// ErrInvalidOptions: an option is out of its documented range.
	ErrInvalidOptions = errors.New("anomaly: invalid options")
	// ErrInvalidValue: a Rate observation is NaN, infinite, negative or above MaxValue.
	ErrInvalidValue = errors.New("anomaly: invalid value")
	// ErrOutOfOrder: an observation is older than the newest one its baseline or key has seen.
	// Nothing changes.
	ErrOutOfOrder = errors.New("anomaly: observation out of time order")
	// ErrInvalidEdge: an edge has an empty endpoint or a port outside 0..65535.
	ErrInvalidEdge = errors.New("anomaly: invalid edge")
	// ErrFull: Edges cannot pin another edge: every slot is pinned already.
	ErrFull = errors.New("anomaly: every slot is pinned")
	// ErrInvalidTime: an authentication event's time is outside [1900, 2200) UTC.
	ErrInvalidTime = errors.New("anomaly: time outside the supported range")
	// ErrInvalidLocation: a location is not "lat,lon" in decimal degrees within range.
	ErrInvalidLocation = errors.New("anomaly: invalid location")
)

// MaxCapacity bounds every detector's number of keys (slots are int32).
const MaxCapacity = 1 << 30

// Evidence is one observation a finding rests on: the caller's reference to the event (its
// CloudEvents id, say) and its time.
type Evidence struct {
	Ref  string
	Time time.Time
}
