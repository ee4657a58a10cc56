// Package budget is the privacy budget ledger of the edge collector: a
// persistent, append-only, hash-chained record of every privacy-loss
// reservation, which refuses a release once its budget is exhausted.
//
// # File format
//
// The ledger is a file of JSON lines, one [Entry] per line, written by one
// process at a time. Each entry carries its sequence number (from 1), the
// hash of the previous entry (64 zeros for the first) and its own hash: the
// hex SHA-256 of an unambiguous length-prefixed encoding of every other
// field, so reordering, editing, inserting or deleting a line breaks the
// chain at that line. Deleting whole lines at the end of the file cannot be
// detected from the file alone; compare [Summary.Head] with an external
// anchor (the audit manifest records the ledger entry hash of each release).
//
// # Protocol
//
// Declare a [Policy] per (stream, privacy unit) first: a total ε cap (and a
// δ cap, zero by default) under a declared guarantee. Then, per release:
//
//	ticket, err := ledger.Reserve(ctx, req) // written and fsynced
//	if errors.Is(err, budget.ErrBudgetExhausted) { suppress the release }
//	... release the noisy values ...
//	_, err = ledger.Commit(ctx, ticket)
//
// Reserve appends the reservation and fsyncs the file (and, when it created
// the file, its directory) before returning, so a release can only follow a
// durable reservation. A reservation is spent whether or not it is
// committed: a crash between Reserve and Commit leaves an orphaned
// reservation that still counts after reopening, so a crash never lets the
// same budget be spent twice. Commit only records that the release went
// out. A refused Reserve writes nothing and consumes nothing.
//
// # Guarantees and window resets
//
// Spend is counted per window index, and the declared [dp.Guarantee]
// decides which windows share the cap:
//
//   - dp.UnitLevel: all windows; the budget never resets.
//   - dp.EventLevel: each window on its own; the budget resets every window.
//   - dp.WEvent with W: every run of W consecutive windows (Kellaris et al.,
//     VLDB 2014). A reservation in window i must fit every run containing
//     i, including runs that reach windows already reserved after i.
//
// A window reset is therefore possible only under a declared event-level
// or w-event guarantee. A unit present in every one of T windows still
// loses up to T·ε in total; [Budget.Lifetime] reports that figure. Once a
// budget has reservations its guarantee cannot be changed (that would be a
// reset by the back door); its caps can, and each change is a chained
// policy entry.
//
// # Crashes and corruption
//
// On [Open] the whole file is reloaded and verified, including that every
// reservation fitted its budget when it was made. A final line without its
// newline is a torn write from a crash during an append that never
// completed its fsync, so its Reserve never returned and nothing was
// released under it: Open drops it, truncates the file, reports a warning
// and appends a chained "recover" entry recording the dropped bytes' length
// and SHA-256. Anything else (a bad hash, a broken link, a gap in the
// sequence, an undecodable complete line, a commit without its
// reservation) is an error wrapping [ErrCorrupt] that names the first
// broken line, and Open refuses the file. After a failed write or fsync the
// Ledger refuses everything ([ErrFailed]); reopening it re-reads the file,
// which is the only source of truth.
//
// # Concurrency
//
// One process owns the file: Open takes an exclusive, non-blocking flock
// (syscall.Flock, LOCK_EX|LOCK_NB; Linux and the BSDs) and fails with
// [ErrLocked] if another open file description holds it, even in the same
// process. The lock is advisory and is released by Close or by the process
// exiting, including by SIGKILL. Within the process a mutex serializes all
// methods, so concurrent Reserve calls can never overspend. [Verify] reads a
// file without taking the lock, for inspection tools.
//
// # Beyond the design document
//
// Replay re-checks the rules, not only the hashes: a chain recomputed by
// someone who can write the file still fails if a reservation exceeded its
// budget, a commit has no reservation or a guarantee changed after
// reservations. δ is budgeted as an exact rational next to ε (a zero δ cap
// admits only pure ε-DP). The w-event check covers every run of W windows
// containing the reserved window, so late reservations into past windows
// are safe. Dropped torn lines leave a chained "recover" entry, and a
// failed write makes the Ledger refuse everything until it is reopened.
package budget
