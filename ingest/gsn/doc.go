// Package gsn is sectwin's gsn2x interchange and rendering layer for GSN assurance cases
// (docs: /work/shared/design/assurance.md, sections 1 and 2). It reads and writes gsn2x YAML
// (jonasthewolf/gsn2x), validates with gsn2x's rules, exports JSON, and draws SVG through
// Graphviz. It knows nothing of Neo4j or GraphQL.
//
// # Reading
//
// Parse reads one file into a Module; ParseSet reads a set of files (one module each) into a
// validated Case, resolving module.uses (relative to the using file) and module.extends across
// files. Elements are YAML map entries keyed by id; the id's prefix gives the type (G, S, Sn, C,
// A, J, CG, CSn) unless nodeType does. Every known key is read (text, nodeType, supportedBy,
// inContextOf, undeveloped, url, classes, rankIncrement, horizontalIndex, charWrap, acp,
// challenges, defeated, defeatedRelation), and every other key is kept as a layer, in order, with
// its YAML value. The module header keeps name, brief, uses, stylesheets, extends,
// additionalInformation, layout hints and any other key.
//
// Parse is as lenient as gsn2x where gsn2x is (an id or a list of ids, null for absent) and
// slightly more (a number or boolean where text is expected is read as the text written); it
// refuses what it could not write back: wrong shapes, duplicate keys, merge keys, unknown
// nodeType values. Its problems have the codes P01–P05 (see the Rule constants) with file, line,
// column and element id.
//
// # Validating
//
// Module.Validate applies the per-file rules V01–V13 and NewCase (and so ParseSet) all rules,
// with gsn2x's codes, severities and messages; Options turns on gsn2x's optional V08 and V11.
// Across files: C01 a single top-level element (several: a warning), C02 which is a Goal, C03
// references resolve (C11 hints at a list written as one string), C04 no supportedBy cycle, C06
// and C07 unique module names and ids, C08 everything reachable from the top, C09 and C10
// extended modules and elements exist and are undeveloped, C12–C16 challenge targets exist and
// are related. Like gsn2x, later stages run only when earlier ones found no error (a failed
// extension excepted, as in gsn2x). Errors refuse the case (an *Error lists every diagnostic);
// warnings are kept in Case.Warnings.
// Diagnostic.String prints gsn2x's format, "Error: (module) V04: Element G1 has ...".
//
// # Writing
//
// Export writes a module back as gsn2x YAML in a canonical form: ids as they are, known keys in a
// fixed order, lists of ids in flow style, layers after them in their order, nodeType wherever
// the id's prefix does not give the type, one blank line between elements. Comments and the
// original layout are not kept, but the model is: parsing an export gives an equal Module
// (Module.Equal), and exporting that gives the same bytes. Annotations add status to the export:
// the layers sectwinStatus and sectwinReasons and a class st-supported, st-undermined, st-unknown
// or st-undeveloped, which StatusCSS colours in gsn2x's own SVG.
//
// Case.JSON writes the case as versioned JSON (JSONVersion; JSONSchema returns its schema).
//
// # Drawing
//
// RenderSVG writes the DOT that DOT describes to Graphviz's dot (exec'd with a timeout, DOT on
// stdin, SVG on stdout) and returns the SVG; it never lays anything out itself. Without dot it
// returns ErrNoGraphviz. All text from a case reaches dot only inside XML-escaped HTML-like
// labels; node names are generated.
package gsn
