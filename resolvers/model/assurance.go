package model

import "time"

// GsnElement is an assurance-case element as GraphQL serves it, with its stored status. It is
// written by hand (not generated) so that it can carry the twin and case its history is read
// from.
type GsnElement struct {
	ID          string
	Type        string
	Module      string
	Text        string
	Undeveloped bool
	Mode        *string
	K           *int
	Evidence    *string
	About       []string
	SupportedBy []string
	InContextOf []string
	Challenges  []string
	Refutes     []string
	Defeater    *CaseDefeater
	Status      *string
	Reasons     *string
	Confidence  *float64
	StatusAt    *time.Time

	Twin, Case string `json:"-"`
}
