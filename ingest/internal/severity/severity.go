// Package severity holds the severities of the model and how the ingest parsers read a
// scanner's severity words and CVSS scores into them.
package severity

import (
	"math"
	"strings"
)

// The severities of the model.
const (
	None     = "NONE"
	Low      = "LOW"
	Medium   = "MEDIUM"
	High     = "HIGH"
	Critical = "CRITICAL"
	Unknown  = "UNKNOWN"
)

// Rank orders severities, NONE lowest (0) to CRITICAL highest (4). UNKNOWN, "" and anything
// else rank -1, below NONE, so that any known severity wins a comparison.
func Rank(s string) int {
	switch s {
	case None:
		return 0
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return -1
}

// Normalize maps a scanner's severity word onto the model's, whatever its case and surrounding
// space: CVSS's words, and the synonyms scanners use (IMPORTANT, MODERATE, NEGLIGIBLE, MINOR,
// INFO, INFORMATIONAL, UNSPECIFIED, UNDEFINED). Empty stays empty. ok is false for a word it does
// not know, which reads as UNKNOWN.
func Normalize(s string) (sev string, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return "", true
	case "CRITICAL":
		return Critical, true
	case "HIGH", "IMPORTANT":
		return High, true
	case "MEDIUM", "MODERATE":
		return Medium, true
	case "LOW", "NEGLIGIBLE", "MINOR":
		return Low, true
	case "NONE", "INFO", "INFORMATIONAL":
		return None, true
	case "UNKNOWN", "UNSPECIFIED", "UNDEFINED":
		return Unknown, true
	}
	return Unknown, false
}

// FromCVSS buckets a CVSS-like score the way CVSS v3 and v4 name their ratings: 0 NONE, below 4
// LOW, below 7 MEDIUM, below 9 HIGH, else CRITICAL. ok is false outside 0–10 (and for NaN).
func FromCVSS(score float64) (sev string, ok bool) {
	switch {
	case math.IsNaN(score) || score < 0 || score > 10:
		return "", false
	case score == 0:
		return None, true
	case score < 4:
		return Low, true
	case score < 7:
		return Medium, true
	case score < 9:
		return High, true
	}
	return Critical, true
}
