package budget

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/edge/dp"
)

// Kind is the kind of a ledger entry.
type Kind string

// The entry kinds.
const (
	// KindPolicy declares or changes the budget of a (stream, unit).
	KindPolicy Kind = "policy"
	// KindReserve reserves privacy loss for one release. It is spent from
	// the moment it is written, committed or not.
	KindReserve Kind = "reserve"
	// KindCommit records that the release of a reservation went out.
	KindCommit Kind = "commit"
	// KindRecover records a torn final line dropped on Open.
	KindRecover Kind = "recover"
)

// genesis is the PrevHash of the first entry.
var genesis = strings.Repeat("0", sha256.Size*2)

// Window identifies an aggregation window. Index orders windows for the
// event-level and w-event guarantees (for example the window start divided
// by the window length); Start and End are informational.
type Window struct {
	Index int64     `json:"index"`
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// Entry is one line of the ledger. Which fields are set depends on Kind.
type Entry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`

	// Stream and Unit (the privacy-unit definition, such as "src_ip") key
	// a budget. Set on policy, reserve and commit entries.
	Stream string `json:"stream,omitempty"`
	Unit   string `json:"unit,omitempty"`

	// Policy entries.
	Guarantee dp.Guarantee `json:"guarantee,omitzero"`
	CapMicro  int64        `json:"capMicro,omitempty"`
	DeltaCap  string       `json:"deltaCap,omitempty"`

	// Reserve entries (Window also on commits).
	Window           *Window `json:"window,omitempty"`
	Mechanism        string  `json:"mechanism,omitempty"`
	EpsilonMicro     int64   `json:"epsilonMicro,omitempty"`
	Delta            string  `json:"delta,omitempty"` // rational, "0" or "n/d"
	L0               int64   `json:"l0,omitempty"`
	LInf             int64   `json:"linf,omitempty"`
	Bounds           []int64 `json:"bounds,omitempty"`
	PartitionSetHash string  `json:"partitionSetHash,omitempty"`
	ConfigHash       string  `json:"configHash,omitempty"`
	KeyID            string  `json:"keyId,omitempty"`

	// Reservation is the Seq of the reservation a commit completes.
	Reservation uint64 `json:"reservation,omitempty"`
	// Note explains a recover entry.
	Note string `json:"note,omitempty"`

	PrevHash string `json:"prevHash"`
	Hash     string `json:"hash"`
}

func (e Entry) clone() Entry {
	if e.Window != nil {
		w := *e.Window
		e.Window = &w
	}
	e.Bounds = slices.Clone(e.Bounds)
	return e
}

// computeHash returns the hex SHA-256 of every field but Hash.
func (e *Entry) computeHash() string {
	c := canon{sha256.New()}
	c.str("sectwin/budget/entry/v1")
	c.uint(e.Seq)
	c.time(e.Time)
	c.str(string(e.Kind))
	c.str(e.Stream)
	c.str(e.Unit)
	if e.Guarantee.Kind == "" {
		c.str("")
	} else {
		c.str(e.Guarantee.String())
	}
	c.int(e.CapMicro)
	c.str(e.DeltaCap)
	if e.Window == nil {
		c.uint(0)
	} else {
		c.uint(1)
		c.int(e.Window.Index)
		c.time(e.Window.Start)
		c.time(e.Window.End)
	}
	c.str(e.Mechanism)
	c.int(e.EpsilonMicro)
	c.str(e.Delta)
	c.int(e.L0)
	c.int(e.LInf)
	c.uint(uint64(len(e.Bounds)))
	for _, b := range e.Bounds {
		c.int(b)
	}
	c.str(e.PartitionSetHash)
	c.str(e.ConfigHash)
	c.str(e.KeyID)
	c.uint(e.Reservation)
	c.str(e.Note)
	c.str(e.PrevHash)
	return hex.EncodeToString(c.h.Sum(nil))
}

// canon feeds SHA-256 an unambiguous encoding: strings are length
// prefixed, integers are 8 bytes big-endian, times are RFC 3339 in UTC.
type canon struct{ h hash.Hash }

func (c canon) uint(v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	c.h.Write(b[:])
}

func (c canon) int(v int64) { c.uint(uint64(v)) }

func (c canon) str(s string) {
	c.uint(uint64(len(s)))
	c.h.Write([]byte(s))
}

func (c canon) time(t time.Time) {
	if t.IsZero() {
		c.str("")
		return
	}
	c.str(t.UTC().Format(time.RFC3339Nano))
}

// maxDeltaLen bounds the text of a δ.
const maxDeltaLen = 64

// parseDelta parses a δ written as a fraction ("1/1000000"), a decimal
// ("0.000001") or "" (zero) and returns it with its canonical form.
func parseDelta(s string) (*big.Rat, string, error) {
	if s == "" {
		s = "0"
	}
	// Only plain fractions and decimals: big.Rat would also accept
	// exponents such as 1e-999999999, whose expansion is a denial of service.
	if len(s) > maxDeltaLen || strings.Trim(s, "0123456789./") != "" {
		return nil, "", fmt.Errorf("delta %q is not a plain fraction or decimal", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
		return nil, "", fmt.Errorf("delta %q is not a rational in [0, 1)", s)
	}
	return r, r.RatString(), nil
}
