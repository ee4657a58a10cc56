// Package report turns an attack-path analysis into a report people and machines can read,
// delivers it, and runs it on a schedule.
//
// The package knows nothing of the graph store or the API: the caller fills a [Report] from
// the attack-path engine's results, and this package
//
//   - diffs it against the previous run ([Diff]);
//   - renders it as one self-contained HTML file, Markdown or JSON ([Renderer]);
//   - delivers it to a folder, a signed webhook or a NATS subject, with retries ([Deliverer]);
//   - runs [Schedule]s, written as cron expressions, without ever overlapping two runs of the
//     same schedule ([Scheduler]).
//
// Units: probabilities and likelihoods are in [0, 1]; fields whose name ends in Pct are
// percentages in [0, 100].
package report
