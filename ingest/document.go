// Package ingest turns the documents CI pipelines post (SBOMs, scan reports, VEX, advisories)
// into writes to a twin. Each format has its own parser package under ingest/; every parser
// returns a Document: a twin-agnostic graph.Batch plus what the file itself declares, so that
// tests can check the graph against the file.
package ingest

import (
	"fmt"
	"time"

	"github.com/sectwin/sectwin/graph"
)

// Formats.
const (
	FormatCycloneDX = "cyclonedx"
	FormatSPDX      = "spdx"
	FormatSARIF     = "sarif"
	FormatTrivy     = "trivy"
	FormatGrype     = "grype"
	FormatOSV       = "osv"
	FormatOpenVEX   = "openvex"
)

// Document is what a parser makes of one file.
type Document struct {
	Format  string // one of the Format constants
	Version string // the format version the file declares: "1.6", "SPDX-2.3", "2.1.0"…
	// Tool is the name of the tool that produced the document, as the document gives it, when it
	// does: "Trivy", Grype's descriptor.name, the first SARIF run's tool.driver.name, CycloneDX's
	// first metadata.tools entry, the first SPDX creator "Tool: syft-1.2.0" without its version.
	Tool string
	// KnowledgeAsOf is how current the tool's advisory data was (Grype's vulnerability database
	// build time); zero when the document does not say.
	KnowledgeAsOf time.Time
	// Subject is what the document describes (CycloneDX metadata.component, an image scanned),
	// when it says. The pipeline turns it into an Artifact that CONTAINS Components.
	Subject *Subject
	// Components lists the purls of every component the document lists, for CONTAINS edges from
	// the subject.
	Components []string
	// Batch holds the nodes and edges, keyed by natural keys (purl, vulnerability id,
	// fingerprint); it passes graph's validation.
	Batch graph.Batch
	// Counts are what the file itself declares, before deduplication.
	Counts Counts
	// Warnings list deviations from the format's schema that were tolerated because their
	// meaning was clear.
	Warnings []Warning
}

// Subject names the artifact a document describes.
type Subject struct {
	Name    string
	Version string
	Digest  string // "sha256:<hex>", when known
	Purl    string
	Type    string // IMAGE, BUILD, PACKAGE…
}

// Counts are what a document declares.
type Counts struct {
	Components      int // components or packages listed (nested ones included)
	Relationships   int // dependency edges declared
	Vulnerabilities int // vulnerability entries or matches
	Results         int // scanner results (SARIF results, misconfigurations, secrets)
}

// Warning is one tolerated deviation.
type Warning struct {
	Path    string // JSON path in the document: "components[3].purl"
	Message string
}

// ParseError means the document cannot be read as its format. The HTTP layer answers 400 with it.
type ParseError struct {
	Format string
	Path   string // JSON path, when known
	Line   int    // 1-based, when known
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	loc := ""
	switch {
	case e.Line > 0:
		loc = fmt.Sprintf(" at line %d, column %d", e.Line, e.Column)
	case e.Path != "":
		loc = " at " + e.Path
	}
	return fmt.Sprintf("not a readable %s document%s: %s", e.Format, loc, e.Msg)
}
