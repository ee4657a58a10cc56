package assurancecase

import "github.com/sectwin/sectwin/analytics/assurance"

// Priority is how closely operations should watch a twin element (dev to ops): the weight of
// its criticality (LOW or unset 1, MEDIUM 2, HIGH 3, CRITICAL or a crown jewel 4) times the
// weight of the weakest claim about it (SUPPORTED 1, UNDEVELOPED or no claim 2, UNKNOWN 3,
// UNDERMINED 4), from 1 to 16. An element nobody argues about is watched like an undeveloped
// claim: not assured is not fine. Levels: CRITICAL from 12, HIGH from 8, MEDIUM from 4.
func Priority(criticality string, crownJewel bool, weakest assurance.Status) (score int, level string) {
	c := map[string]int{"MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}[criticality]
	if c == 0 {
		c = 1
	}
	if crownJewel {
		c = 4
	}
	w := map[assurance.Status]int{assurance.Supported: 1, assurance.Unknown: 3, assurance.Undermined: 4}[weakest]
	if w == 0 {
		w = 2
	}
	score = c * w
	return score, PriorityLevel(score)
}

// PriorityLevel is the level of a priority score: CRITICAL from 12, HIGH from 8, MEDIUM from 4,
// else LOW.
func PriorityLevel(score int) string {
	switch {
	case score >= 12:
		return "CRITICAL"
	case score >= 8:
		return "HIGH"
	case score >= 4:
		return "MEDIUM"
	default:
		return "LOW"
	}
}
