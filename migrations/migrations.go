// Package migrations holds sectwin's ordered Cypher migrations, NNNN_name.cypher, embedded in the
// binary. `sectwin migrate` and `sectwin serve` apply them with graph.Migrator.
//
// Rules for a migration file:
//   - Name it NNNN_short_name.cypher with the next free four-digit number.
//   - End every statement with ';' at the end of a line. Lines starting with // are comments.
//   - Never edit a file once it has been applied anywhere: the checksum check refuses it. Add a new one.
//   - Each statement runs in its own auto-commit transaction (schema statements need that), so make
//     them idempotent (IF NOT EXISTS, MERGE): a run cut short is re-run from the start of its file.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.cypher
var files embed.FS

// Files returns the embedded migration files.
func Files() fs.FS { return files }
