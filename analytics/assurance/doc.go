// Package assurance computes the status of assurance cases: GSN arguments whose claims are
// bound to live evidence and challenged by defeaters. It is the pure algorithm of section 3
// ("Status semantics") of the assurance design (assurance.md): it knows nothing of the
// graph store, the message bus, the API or any file format. Callers supply evidence
// verdicts, predicate values and defeater triage; the package propagates them through the
// case.
//
// # Model
//
// A Builder collects Elements (Goal, Strategy, Solution, Context, Assumption,
// Justification), Defeaters and the links SUPPORTED_BY (Goal/Strategy → Goal, Strategy or
// Solution, optionally with the hash of the child at its last review) and IN_CONTEXT_OF
// (Goal/Strategy → Context, Assumption or Justification). A Defeater CHALLENGES Goals,
// Strategies (inferences) or Solutions (evidence) and is attacked by refutation claims
// (RefutedBy: Goals, Strategies or Solutions). An element with Away set stands for an
// element of another module and takes its result. Build validates everything and returns
// an immutable Model or a ValidationErrors naming each element at fault: empty or
// duplicate ids, unknown kinds, dangling references, wrong link types, self and duplicate
// links, cycles of SUPPORTED_BY and away references, K_OF_N with k outside 1..n, undeveloped
// elements with support, malformed away references, defeaters challenging nothing, invalid
// assessments. Elements are indexed in id order, so the insertion order never matters.
//
// # Status
//
// Statuses are ordered by severity: SUPPORTED < UNDEVELOPED < UNKNOWN < UNDERMINED.
//
// A Solution's status is its LeafResult (EVIDENCE_MISSING when none was given). A leaf
// result is valid before its Expires; from then on the Solution is UNKNOWN with
// EVIDENCE_STALE, or MONITOR_SILENT for heartbeats (LeafResult.OnExpiry).
//
// A Goal or Strategy that is undeveloped or has no children is UNDEVELOPED
// (NOT_DEVELOPED); otherwise its mode combines its children: ALL takes the worst, ANY the
// best; K_OF_N is SUPPORTED if at least k children are, UNDERMINED if more than n−k are,
// and otherwise the worst of the children that are neither SUPPORTED nor UNDERMINED. Then,
// in order, its contexts and assumptions, its defeaters and its suspect links may make it
// worse: the final status is the worst of all these contributions, none ever improves it.
//
//   - A Context or Assumption with a predicate is UNDERMINED (ASSUMPTION_VIOLATED) when
//     the predicate is false and UNKNOWN (ASSUMPTION_UNKNOWN) when its value is unknown,
//     not supplied or expired. Without a predicate, and for Justifications, it holds.
//   - Defeaters are labelled by the grounded labelling of the attack graph (below). An IN
//     sustained defeater gives UNDERMINED (DEFEATED) when rebutting, UNKNOWN
//     (INFERENCE_CHALLENGED) when undercutting and UNKNOWN (EVIDENCE_CHALLENGED) when
//     undermining. An UNDEC defeater, or an IN one that is untriaged (OPEN, or an expired
//     residual acceptance), gives DEFEATER_OPEN: UNDERMINED for a rebutting defeater of high
//     severity (KEV, critical or high), UNKNOWN otherwise. OUT defeaters have no effect;
//     one OUT only because it is accepted as residual risk adds RESIDUAL_ACCEPTED to a
//     SUPPORTED target and scales its confidence.
//   - A SUPPORTED_BY link is suspect when the child has a hash and the link's reviewed
//     hash differs (or it was never reviewed); a suspect link caps the parent at UNKNOWN
//     (SUSPECT_LINK, naming parent and child) and its child counts as confidence 0.
//
// Defeaters challenge Solutions too, and an away element takes its target's result before
// its own defeaters apply.
//
// # Reasons
//
// A Result's Reasons explain its status and only its status: they are the union of the
// reasons of every contribution whose status equals the final status (for ALL the worst
// children, for ANY the best, for K_OF_N those counted), one Reason per code with the union
// of the culprits. Culprits are root causes (Solutions, Contexts, Assumptions, Defeaters,
// the two ends of a suspect link, and ids the caller attached to leaf results), never
// intermediate goals, so the root of a case names the evidence to look at. A milder
// problem hidden by a worse one is not listed. Messages are plain language, derived from
// the code and the sorted culprits only, so results are deterministic.
//
// # Defeaters and the grounded labelling
//
// The attack graph has the defeaters and the claims as arguments: a refutation claim
// attacks the defeaters it refutes, and a defeater attacks what it challenges (and through
// SUPPORTED_BY, everything above). A claim stands IN (counts as an attacker) while it is
// SUPPORTED, OUT when it would not be SUPPORTED even if every undecided defeater were OUT,
// and undecided otherwise: each element carries its status as a lower bound (undecided
// defeaters harming) and, internally, this upper bound. A defeater is IN when every
// refutation is OUT, OUT when some refutation is IN, and UNDEC otherwise. The grounded
// labelling is the least fixpoint of these rules. It is computed per strongly connected
// component of the dependency graph, in dependency order: a defeater outside attack cycles
// is labelled directly from its refutations' final standing; a component with attack
// cycles starts from "all undecided" and iterates until no defeater can be decided, and
// what stays undecided is UNDEC. So a defeater is UNDEC on a cycle, and also when a
// refutation of it hinges on an UNDEC defeater elsewhere. Triage short-cuts the
// labelling: REFUTED defeaters, and ACCEPTED_RESIDUAL ones before their acceptance expires,
// are OUT whatever their refutations. Defeaters attack defeaters only through refutation
// claims (a defeater cannot challenge a defeater), which keeps one kind of argument per
// role and matches GSN's counter-claims.
//
// # Confidence
//
// Confidence in [0, 1] is secondary and never changes a status. A Solution's is the
// caller's (LeafConfidence implements w_kind × freshness), 0 when missing or expired. ALL
// takes the minimum of its children's, or in strict mode (Options.Strict) the Fréchet bound
// max(0, Σc − (n−1)); ANY the maximum; K_OF_N the k-th largest (strict: the Fréchet bound of
// the k largest). UNDEVELOPED is 0. Each challenging defeater multiplies it: by 1−p when IN or
// UNDEC (p is its probability, 1 when not estimated), by 1−Options.ResidualPenalty when OUT as
// accepted residual risk, by 1 when OUT. Predicates do not change it.
//
// # Engine
//
// An Evaluator holds a Model, the current inputs and results. Evaluate recomputes
// everything; Update applies Changes (leaf results, predicate values, defeater assessments,
// hashes, reviews) and re-evaluates only what they reach: the strongly connected
// components of the dependency graph (SUPPORTED_BY, IN_CONTEXT_OF, CHALLENGES, refutations
// and away references) are processed in dependency order from a priority queue, starting at
// the dirty ones and following dependents only while results change. Update returns every
// changed result as a StatusChange with its cause (the inputs and expiries it propagated
// from). The expiries of leaf results, predicate values and residual acceptances are kept
// in an indexed heap: NextReevalAt is the earliest pending one, and Update with no changes
// and a later time re-evaluates only what expired. Each Result also carries the earliest
// pending expiry it depends on. Model.Impact lists what could change when given elements
// change.
//
// # Decisions
//
// Where the design is silent or ambiguous, this package decides:
//
//   - Validity intervals are half-open: an input with expiry t is valid while now < t, so
//     NextReevalAt is the exact instant of the change (the design writes now > expiry).
//   - K_OF_N's "worst of the rest" ranges over the children that are neither SUPPORTED nor
//     UNDERMINED: when k is still reachable, an UNDERMINED child must not decide.
//   - An unknown predicate value gives UNKNOWN with the added code ASSUMPTION_UNKNOWN; the
//     design only covers false.
//   - The severity policy for UNDEC or untriaged defeaters never exceeds the defeater's
//     effect when sustained: only a rebutting defeater can make its target UNDERMINED.
//     An untriaged undercutting or undermining defeater gives UNKNOWN (DEFEATER_OPEN) at
//     any severity; a severe one cannot weigh more than the same defeater confirmed.
//   - "Attackers count only while SUPPORTED" is read three-valued: a refutation that is not
//     SUPPORTED only because of an undecided defeater is undecided, not OUT, as grounded
//     semantics requires (otherwise the labelling would depend on evaluation order).
//   - A sustained defeater still goes OUT when a refutation claim becomes SUPPORTED; an
//     OPEN defeater refuted by a SUPPORTED claim (a VEX not_affected) is OUT, untriaged or
//     not. A refutation that holds wins over a residual acceptance (OUT, not residual).
//   - An IN or UNDEC defeater without a probability counts as p = 1 for confidence.
//   - Leaf confidence is the caller's: freshness is not decayed with time by the engine,
//     which would make every Update touch every leaf.
//   - A Defeater's Result describes the effect it exerts on its targets (SUPPORTED when
//     none), with its Label and Residual.
//   - Away elements must name an element of the same kind in another module, and have no
//     support or context of their own; they may be challenged.
//   - Update reports every changed result, not only status changes (reasons, confidence
//     and NextReevalAt are stored too); StatusChange.StatusChanged tells them apart.
//     Update also returns an error: inputs are validated (kinds, reason codes, ranges)
//     and an invalid batch is refused whole.
package assurance
