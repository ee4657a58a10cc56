// Package formats picks the parser for a document format.
package formats

import (
	"fmt"

	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/attack"
	"github.com/sectwin/sectwin/ingest/cyclonedx"
	"github.com/sectwin/sectwin/ingest/grype"
	"github.com/sectwin/sectwin/ingest/kev"
	"github.com/sectwin/sectwin/ingest/openvex"
	"github.com/sectwin/sectwin/ingest/osv"
	"github.com/sectwin/sectwin/ingest/sarif"
	"github.com/sectwin/sectwin/ingest/spdx"
	"github.com/sectwin/sectwin/ingest/trivy"
)

// Parse reads data as format. An unknown or not yet supported format is ingest.ErrUnknownFormat.
func Parse(format string, data []byte) (*ingest.Document, error) {
	switch format {
	case ingest.FormatCycloneDX:
		return cyclonedx.Parse(data)
	case ingest.FormatSPDX:
		return spdx.Parse(data)
	case ingest.FormatSARIF:
		return sarif.Parse(data)
	case ingest.FormatTrivy:
		return trivy.Parse(data)
	case ingest.FormatGrype:
		return grype.Parse(data)
	case ingest.FormatOSV:
		return osv.Parse(data)
	case ingest.FormatOpenVEX:
		return openvex.Parse(data)
	case ingest.FormatKEV:
		return kev.Parse(data)
	case ingest.FormatATTACK:
		return attack.Parse(data)
	}
	return nil, fmt.Errorf("%w: %q is not supported yet; supported: %v", ingest.ErrUnknownFormat, format, Supported())
}

// Supported lists the formats Parse reads.
func Supported() []string {
	return []string{ingest.FormatCycloneDX, ingest.FormatSPDX, ingest.FormatSARIF, ingest.FormatTrivy, ingest.FormatGrype,
		ingest.FormatOSV, ingest.FormatOpenVEX, ingest.FormatKEV, ingest.FormatATTACK}
}
