// Package attackpath is the attack-path engine: weighted path analytics over an in-memory
// projection of the attack graph, free of any database or API types.
//
// Nodes are dense int32 indexes 0..N-1; the caller maps its own ids to them. Every edge carries
// the probability p in (0, 1] that the step succeeds, and costs −ln p, so the cheapest path is
// the most likely one and a path's likelihood is the product of its edges' p (which assumes
// the steps succeed independently).
//
// A Graph is built once from an edge list (Build) into an out- and an in-CSR, is immutable and
// may be queried by any number of goroutines at once. Changes (what-if simulation, or a refresh
// after a change event) produce a new Graph (WithChanges). On a Graph:
//
//   - Potentials: the cost from every node to the nearest of a set of targets (reverse
//     multi-target Dijkstra), cached per target set;
//   - TopK: the k most likely loopless paths from a set of sources to a set of targets, each
//     ending at the first target it reaches (Yen's algorithm with A* spur searches guided by
//     the potentials);
//   - Dominators and ChokePoints: the dominator tree from the sources and the single nodes
//     every path to a target must cross;
//   - MinCut: the cheapest set of nodes and edges whose removal disconnects the targets from
//     the sources (Dinic's max-flow on the node-split graph);
//   - FixPlan: a greedy plan of fixes ranked by path mass removed per unit of cost;
//   - BlastRadius: the most likely way to reach every node from a starting set;
//   - NoisyOR: a compromise estimate over a set of paths.
//
// # Costs and ties
//
// Internally an edge's cost is −ln p rounded to a multiple of 2^-20 (CostResolution), held as
// an integer. Ranking and searching use these integer costs, so equal probabilities tie
// exactly, sums do not depend on their order and the A* heuristic is exactly consistent. Paths
// whose likelihoods differ by less than about one part in a million may therefore rank as ties;
// ties are broken by fewer hops, then by the lexicographically smallest node sequence. The
// likelihoods and costs reported in results are computed in float64 from the edges' p.
//
// # Memory
//
// A Graph holds about 41 bytes per edge and 8 per node (MemoryBytes). On top of that: 5 bytes
// per node per cached target set (potentials), 20 more per node for a target set whose
// post-dominators a costly query computed, 32 bytes per node per concurrently running path
// query (pooled), and 32 bytes per node plus 16 per edge during MinCut.
package attackpath
