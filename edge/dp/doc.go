// Package dp implements the differential-privacy primitives of the edge
// collector: exact discrete Laplace noise, integer aggregators, contribution
// bounding and windowed release over declared public partitions.
//
// Everything here is written in-house from the published algorithms. No Go
// DP library is available to our build (Google's
// github.com/google/differential-privacy/go modules are refused by the module
// proxy) and float samplers such as gonum's distuv.Laplace are not DP-safe,
// so nothing is copied or imported: the package uses the standard library
// only and knows nothing of transports, stores or config files.
//
// # Integer domain
//
// Values are int64 fixed-point numbers (a metric declares its scale), epsilon
// is an integer number of micro-epsilon ([Epsilon]) and noise is integer, so
// no floating-point value is ever involved in a release. This removes the
// floating-point attacks on naive Laplace noise (Mironov, CCS 2012;
// Casacuberta et al., arXiv 2207.10635).
//
// # Noise
//
// [DiscreteLaplace] is the exact sampler of Canonne, Kamath and Steinke,
// "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020,
// arXiv 2004.00010), Algorithms 1 and 2: P[Z=z] ∝ exp(−|z|·s/t) for positive
// integers s and t, built from uniform integers drawn by rejection (no modulo
// bias), [Bernoulli] of a rational and [BernoulliExp] of a rational. For ε-DP
// with integer sensitivity Δ and ε = m/10^6 the parameters are s = m and
// t = Δ·10^6 (reduced by their gcd). Two refinements over the paper's
// presentation, both exact:
//
//   - Bernoulli(γ/K) inside Bernoulli(exp(−γ)) is drawn as Bernoulli(n/d)
//     and then Bernoulli(1/K) (a product of independent events), so d·K never
//     has to be formed and cannot overflow.
//   - U + t·V and ⌊(U + t·V)/s⌋ are computed in 128 bits, so the only
//     overflow left is a result outside int64, which is reported as
//     [ErrOverflow] rather than wrapped.
//
// Each call draws at most a fixed number of words from its [Source] and
// fails with [ErrStalled] beyond it. For a uniform source this happens with
// probability far below 2^-1000 and independently of the data, so it leaks
// nothing; it turns a stuck or broken source into an error instead of a hang.
//
// # Randomness
//
// Production randomness is crypto/rand through a buffered reader
// ([NewCryptoSource]). A read error fails closed: the error is sticky, every
// later draw fails too, and a release that needed the draw is refused rather
// than made with less or no noise. Deterministic sources exist only in the
// tests of this package.
//
// # Aggregation and bounding
//
// [Count], [Sum] and [Mean] are per-partition state machines (open →
// released): noise is drawn exactly once, and a second release, or an Add
// after the release, is [ErrReleased]. A failed release is not retried.
// [Window] takes raw records (unit, partition, value), bounds each privacy
// unit's contribution, and releases every declared public partition with
// noise, zeros included. Bounding per unit and window:
//
//   - L0: a unit contributes to at most L0 partitions; when it touches more,
//     the kept set is a uniform sample of its partitions (reservoir sampling,
//     Algorithm R, with the window's source).
//   - L∞: a unit's contribution to one partition is clamped. For DP-Count it
//     is the unit's record count clamped to [0, L∞]
//     (max_contributions_per_partition, 1 by default, which counts distinct
//     units). For DP-Sum it is the unit's total in the partition clamped to
//     [lower, upper], so L∞ = max(|lower|, |upper|). For DP-Mean it is the
//     mean of the unit's records, each clamped to [lower, upper].
//
// The sensitivity Δ = L0·L∞ comes from these caps and never from the data.
// Partition totals are accumulated in overflow-checked 128-bit integers, and
// the noisy result is saturated into int64 (post-processing), so no data
// value can make a release fail.
//
// DP-Mean releases mid + S/C clamped to [lower, upper], where mid is the
// midpoint of the bounds, S is the noisy sum of the unit values centred on mid
// (sensitivity L0·⌈(upper−lower)/2⌉, half the sensitivity of an uncentred sum)
// and C is the noisy number of units (sensitivity L0, floored at 1 for the
// division). ε is split evenly: ⌊m/2⌋ micro-ε for C and the rest for S;
// sequential composition gives ε in total.
//
// # Thresholding
//
// Partitions are public and declared up front, so no budget is spent on
// partition selection and every partition is released. The optional
// min_units pre-threshold suppresses partitions with fewer distinct
// (bounded) units. It is defence in depth and NOT differentially private on
// its own: which partitions are suppressed is a deterministic function of
// the data, and with min_units > 0 the suppression pattern is not covered by
// the stated ε. Each release carries a [Statement] of its guarantee,
// mechanism, ε, δ, L0, L∞, bounds and threshold.
//
// # Beyond the design document
//
// Besides the two sampler refinements and the draw limit above: the
// randomness error is sticky; partition totals and unit totals use exact,
// overflow-checked 128-bit accumulation with the noisy result saturated
// (post-processing) instead of refusing data-dependently on overflow;
// DP-Mean centres its sum on the midpoint of the bounds, halving the sum's
// sensitivity; a failed release is never retried; and epsilon decodes from
// JSON and text from its decimal digits, never through float64.
package dp
