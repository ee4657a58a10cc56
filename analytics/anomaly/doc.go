// Package anomaly holds the operations twin's streaming per-entity detectors: a rate baseline
// (Rate), first-seen connections (Edges) and authentication patterns (BruteForce, Travel). They
// know nothing of the database, the bus or the API: the caller feeds them observations in time
// order, one detector per entity and series, and links the evidence they return (the caller's
// event refs) to the twin.
//
// Every detector is deterministic given its inputs (no clocks, no randomness, no map iteration
// order in results), allocates nothing on the path that does not report a finding once its
// memory has grown to its bound, and is safe on bad input: NaN, ±Inf, negative counts, a time
// before the last one seen, unparsable locations and empty keys are rejected with a documented
// error or ignored, never a panic and never a change of state. A detector is not safe for use by
// several goroutines at once; the caller shards entities over goroutines.
//
// # Rate
//
// Rate keeps a baseline of per-bucket counts or rates and scores each new bucket with a robust
// z-score z = (x − m) / s against the baseline before the bucket is folded in, where m is an
// exponentially weighted mean and s = √(π/2)·d a standard deviation estimated from d, the
// exponentially weighted mean absolute deviation (EW-MAD) of the one-step residuals x − m.
//
// Why the EW-MAD and not an EW variance: a burst k standard deviations high adds α·k²σ² to an
// EW variance but only α·kσ to an EW-MAD, so after an attack burst the scale is inflated
// linearly rather than quadratically and the detector is blind for far less time to a second
// burst; for Gaussian noise the MAD estimates σ/√(π/2) with 88% of the variance's efficiency,
// a small price. On top of that the update is winsorised (Huber-style): once the baseline is
// warm, the residual folded into m and d is clipped to ±Clip·s, so one spike moves the mean by
// at most α·Clip·s however large it is, while a lasting level shift is still absorbed within a
// few half-lives (each clipped step widens s, which widens the next clip). Clipping is off
// during warm-up, when s is not yet meaningful. While a baseline has seen fewer than 1/α
// observations the weight is 1/k instead of α (k the number seen), so the early estimates are
// plain running averages rather than biased towards the first value or towards a zero MAD.
//
// The scale never falls below a floor, MinScale, and, with Poisson set (for counts), √m: a
// count of independent arrivals varies by at least the square root of its mean, and a series
// that was constant so far must not turn its first change of one into an infinite score.
//
// The score is |z| (or only its positive or negative part, per Direction), in [0, +Inf) and
// always finite: values above MaxValue are rejected. An observation is anomalous when its score
// reaches Threshold / sensitivity, where sensitivity (> 1 for weak or critical assets) is an
// input to each Observe, and only once the scale has learnt from Warmup residuals.
//
// Seasonal mode (hour of week) keeps 168 means, one per hour of the week, and one dispersion
// shared by all of them, learnt from the residuals against each hour's own mean. 168 complete
// baselines would each need their own warm-up (Warmup weeks at hourly buckets before the
// first alert) and would estimate each dispersion from a few dozen points; the level is what
// changes over the week, the spread much less, and what does change with the level (for
// counts) the Poisson floor follows hour by hour. An hour never seen before has no expectation
// and is never flagged.
//
// # Edges
//
// Edges reports the first connection on an edge (source, destination, port, protocol) by keeping
// an exact set of the edges seen, bounded by a capacity, with least-recently-seen eviction, plus
// pinned edges (the designed or known ones the caller seeds) that are never evicted. Why exact
// with LRU and not a Bloom filter: a Bloom filter's false positives are exactly the misses that
// matter here (a new edge taken for a known one, silently), it cannot evict, so over a long
// stream it fills up and its false-positive rate climbs to one unless rotated, and it cannot
// keep designed edges apart from learnt ones. An exact LRU set has no false positives at all;
// its only error is re-reporting an edge unused for longer than `capacity` other distinct edges
// were seen, which reads as "not seen recently" and is documented as such.
//
// # Authentication patterns
//
// BruteForce counts failed logins per key (principal or source, one detector each) in a
// sliding window and reports N failures within the window, and a success that follows N
// failures within the window ending at it ("brute force succeeded"). Windows are half-open:
// an event at time τ is in the window ending at t iff t − Window < τ ≤ t, so a failure exactly
// Window before t no longer counts. Each key keeps only its N newest failures (all that the
// rule needs), and the number of keys is bounded with least-recently-active eviction.
//
// Travel reports impossible travel: two successful logins of a principal whose great-circle
// distance (haversine, on a sphere of radius EarthRadiusKm) exceeds MaxSpeedKmh times the time
// between them. It keeps each principal's last located success, with the same key bound.
//
// # Scores
//
// Rate scores are robust z-scores in [0, +Inf). Edges scores are 1 for a new edge and 0 for a
// known one. BruteForce and Travel findings score in (0, 1]: how far inside the rule the
// evidence falls (1 − span/Window for failures that came within span; 1 − allowed/actual for a
// distance that MaxSpeedKmh would cover only in part).
//
// # Why hand-written
//
// The Go module proxy has no maintained streaming anomaly-detection library; the EWMA one it has
// (github.com/VividCortex/ewma) keeps a mean only, with no dispersion, weights or winsorising.
// github.com/hashicorp/golang-lru/v2 is an LRU cache, but it allocates a list element per
// insertion and cannot pin entries; the LRU here lives in slices indexed by slot so the per-key
// state of BruteForce and Travel sits in flat arrays too. github.com/bits-and-blooms/bloom/v3
// exists, and is not used for the reasons above. The haversine formula is a few lines.
package anomaly
