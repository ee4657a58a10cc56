package evidence

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A cypher_check query is accepted in two steps, and each must pass:
//
//  1. CheckCypher, without a database: the query is one statement, its brackets balance, it
//     names no clause that writes, changes the schema or administers the server (CREATE,
//     MERGE, DELETE, SET, REMOVE, DROP, FOREACH, LOAD CSV, USE, SHOW, GRANT…, CALL {…} IN
//     TRANSACTIONS), calls no procedure but AllowedProcedures, matches no variable-length path
//     without an upper bound of at most MaxPathLength, and uses no parameter but $twin (which
//     it must use) and its declared ones.
//  2. CheckPlan, on what Neo4j's EXPLAIN says about the query as it will run: the statement
//     type is read-only, and the plan has no LOAD CSV, no procedure call but
//     AllowedProcedures, no transactional subquery and no unbounded expansion (which also
//     catches quantified path patterns the first step cannot parse).
//
// The query then runs in a read transaction, with a row limit and a time budget.

// AllowedProcedures are the procedures a cypher_check may call: read-only and bounded.
var AllowedProcedures = []string{"db.labels", "db.propertyKeys", "db.relationshipTypes"}

// forbidden maps the keywords a read-only query never needs to why.
var forbidden = map[string]string{
	"CREATE": "write clause", "MERGE": "write clause", "DELETE": "write clause", "DETACH": "write clause",
	"NODETACH": "write clause", "SET": "write clause", "REMOVE": "write clause", "FOREACH": "write clause",
	"INSERT": "write clause", "DROP": "schema clause", "ALTER": "administration clause",
	"RENAME": "administration clause", "GRANT": "administration clause", "DENY": "administration clause",
	"REVOKE": "administration clause", "SHOW": "administration clause", "TERMINATE": "administration clause",
	"USE": "database selection clause", "LOAD": "LOAD CSV clause (reads files and URLs)",
	"EXPLAIN": "query option", "PROFILE": "query option", "CYPHER": "query option",
	"TRANSACTIONS": "CALL { … } IN TRANSACTIONS clause (commits in batches)",
}

// lintError is a CheckCypher failure: kind is ErrNotReadOnly, ErrUnbounded or ErrInvalid.
type lintError struct {
	kind error
	msg  string
}

func (e *lintError) Error() string { return e.msg }
func (e *lintError) Unwrap() error { return e.kind }

func lintf(kind error, format string, args ...any) error {
	return &lintError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

type tokKind uint8

const (
	tokWord   tokKind = iota + 1 // identifier or keyword
	tokQuoted                    // `quoted identifier`
	tokParam                     // $name
	tokString                    // 'string' or "string"
	tokNumber
	tokPunct // one character
)

type token struct {
	kind tokKind
	text string // for tokParam the name, for tokPunct the character
	pos  int    // byte offset
}

// lexCypher splits a query into tokens, dropping whitespace and comments.
func lexCypher(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(q[i:], "//"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			i += j
		case strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return nil, lintf(ErrInvalid, "comment at offset %d is not closed", i)
			}
			i += j + 4
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(q) && q[j] != c; j++ {
				if q[j] == '\\' {
					j++
				}
			}
			if j >= len(q) {
				return nil, lintf(ErrInvalid, "string at offset %d is not closed", i)
			}
			toks = append(toks, token{tokString, q[i+1 : j], i})
			i = j + 1
		case c == '`':
			j, end := i+1, -1
			for j < len(q) {
				if q[j] == '`' {
					if j+1 < len(q) && q[j+1] == '`' {
						j += 2
						continue
					}
					end = j
					break
				}
				j++
			}
			if end < 0 {
				return nil, lintf(ErrInvalid, "quoted name at offset %d is not closed", i)
			}
			toks = append(toks, token{tokQuoted, q[i+1 : end], i})
			i = end + 1
		case c == '$':
			j := i + 1
			if j < len(q) && q[j] == '`' {
				end := strings.IndexByte(q[j+1:], '`')
				if end < 0 {
					return nil, lintf(ErrInvalid, "quoted parameter at offset %d is not closed", i)
				}
				toks = append(toks, token{tokParam, q[j+1 : j+1+end], i})
				i = j + end + 2
				continue
			}
			for j < len(q) {
				r, n := utf8.DecodeRuneInString(q[j:])
				if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
					break
				}
				j += n
			}
			if j == i+1 {
				return nil, lintf(ErrInvalid, "$ at offset %d names no parameter", i)
			}
			toks = append(toks, token{tokParam, q[i+1 : j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			// A fraction, but not the .. of a range.
			if j+1 < len(q) && q[j] == '.' && q[j+1] >= '0' && q[j+1] <= '9' {
				j++
				for j < len(q) && isWordByte(q[j]) {
					j++
				}
			}
			toks = append(toks, token{tokNumber, q[i:j], i})
			i = j
		default:
			r, n := utf8.DecodeRuneInString(q[i:])
			if r == '_' || unicode.IsLetter(r) {
				j := i + n
				for j < len(q) {
					r, n := utf8.DecodeRuneInString(q[j:])
					if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
						break
					}
					j += n
				}
				toks = append(toks, token{tokWord, q[i:j], i})
				i = j
				continue
			}
			if r == utf8.RuneError && n == 1 {
				return nil, lintf(ErrInvalid, "invalid UTF-8 at offset %d", i)
			}
			toks = append(toks, token{tokPunct, q[i : i+n], i})
			i += n
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func punct(t token, s string) bool { return t.kind == tokPunct && t.text == s }

// CheckCypher is the first acceptance step of a cypher_check query (see above): declared are
// the names of its declared parameters. It returns an error wrapping ErrNotReadOnly,
// ErrUnbounded or ErrInvalid.
func CheckCypher(query string, declared []string) error {
	toks, err := lexCypher(query)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return lintf(ErrInvalid, "empty query")
	}
	// Brackets balance and nest; remember each opener's closer.
	closer := make([]int, len(toks))
	var stack []int
	pairs := map[string]string{")": "(", "]": "[", "}": "{"}
	for i, t := range toks {
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			stack = append(stack, i)
		case ")", "]", "}":
			if len(stack) == 0 || toks[stack[len(stack)-1]].text != pairs[t.text] {
				return lintf(ErrInvalid, "unbalanced %q at offset %d", t.text, t.pos)
			}
			closer[stack[len(stack)-1]] = i
			stack = stack[:len(stack)-1]
		case ";":
			return lintf(ErrInvalid, "one statement only: no ; (offset %d)", t.pos)
		}
	}
	if len(stack) > 0 {
		t := toks[stack[len(stack)-1]]
		return lintf(ErrInvalid, "unclosed %q at offset %d", t.text, t.pos)
	}
	usesTwin := false
	for i, t := range toks {
		var prev, next token
		if i > 0 {
			prev = toks[i-1]
		}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		switch t.kind {
		case tokParam:
			switch {
			case t.text == "twin":
				usesTwin = true
			case !slices.Contains(declared, t.text):
				return lintf(ErrInvalid, "$%s at offset %d is not a declared parameter (declare it in cypher.params)", clip(t.text), t.pos)
			}
			continue
		case tokWord:
		default:
			continue
		}
		// A property (n.set), a label or type (:Create), a namespace (apoc.create.x) or a map
		// key ({delete: 1}) is not a keyword.
		if punct(prev, ".") || punct(prev, ":") || punct(next, ":") {
			continue
		}
		kw := strings.ToUpper(t.text)
		if why, bad := forbidden[kw]; bad {
			return lintf(ErrNotReadOnly, "%s %s at offset %d: a cypher_check only reads", why, kw, t.pos)
		}
		if kw == "CALL" {
			if err := checkCall(toks, i, closer); err != nil {
				return err
			}
		}
	}
	for i := range toks {
		if err := checkQuantifier(toks, i, closer); err != nil {
			return err
		}
	}
	if !usesTwin {
		return lintf(ErrInvalid, "the query must use $twin to read only its twin, such as MATCH (n:Service {twin: $twin})")
	}
	return nil
}

// checkCall accepts CALL { subquery } and CALL (vars) { subquery }, and calls of the allowed
// procedures only.
func checkCall(toks []token, i int, closer []int) error {
	j := i + 1
	if j < len(toks) && punct(toks[j], "(") {
		j = closer[j] + 1 // a scoped subquery: CALL (x, y) { … }
	}
	if j < len(toks) && punct(toks[j], "{") {
		return nil
	}
	var name strings.Builder
	for ; j < len(toks); j++ {
		t := toks[j]
		if t.kind == tokWord || t.kind == tokQuoted {
			name.WriteString(t.text)
		} else if punct(t, ".") {
			name.WriteString(".")
		} else {
			break
		}
	}
	proc := name.String()
	for _, ok := range AllowedProcedures {
		if strings.EqualFold(proc, ok) {
			return nil
		}
	}
	if proc == "" {
		proc = "(unnamed)"
	}
	return lintf(ErrNotReadOnly, "procedure call %s at offset %d: a cypher_check may call only %s",
		clip(proc), toks[i].pos, strings.Join(AllowedProcedures, ", "))
}

// checkQuantifier refuses an unbounded (or too long) variable-length relationship, -[*]-,
// -[:R*2..]-, and a quantifier {m,} after a pattern.
func checkQuantifier(toks []token, i int, closer []int) error {
	t := toks[i]
	if punct(t, "[") && i > 0 && punct(toks[i-1], "-") {
		end := closer[i]
		for j := i + 1; j < end; j++ {
			if punct(toks[j], "{") { // a property map: skip it
				j = closer[j]
				continue
			}
			if !punct(toks[j], "*") {
				continue
			}
			lo, hi, hasRange := "", "", false
			k := j + 1
			if k < end && toks[k].kind == tokNumber {
				lo = toks[k].text
				k++
			}
			if k+1 < end && punct(toks[k], ".") && punct(toks[k+1], ".") {
				hasRange = true
				k += 2
				if k < end && toks[k].kind == tokNumber {
					hi = toks[k].text
				}
			}
			switch {
			case !hasRange && lo == "":
				return lintf(ErrUnbounded, "variable-length relationship [*] at offset %d has no upper bound: write *..N with N ≤ %d", toks[j].pos, MaxPathLength)
			case hasRange && hi == "":
				return lintf(ErrUnbounded, "variable-length relationship at offset %d has no upper bound: write *..N with N ≤ %d", toks[j].pos, MaxPathLength)
			case !hasRange:
				hi = lo
			}
			if n, err := strconv.Atoi(hi); err != nil || n > MaxPathLength {
				return lintf(ErrUnbounded, "variable-length relationship at offset %d may be %s hops long; at most %d", toks[j].pos, clip(hi), MaxPathLength)
			}
		}
	}
	// A quantifier {m,n} follows the ) of a parenthesised pattern or the - or > ending a
	// relationship; {m,} has no upper bound.
	if punct(t, "{") && i > 0 && (punct(toks[i-1], ")") || punct(toks[i-1], "-") || punct(toks[i-1], ">")) {
		end := closer[i]
		inner := toks[i+1 : end]
		if len(inner) >= 1 && len(inner) <= 3 && (inner[0].kind == tokNumber || punct(inner[0], ",")) {
			comma := slices.IndexFunc(inner, func(x token) bool { return punct(x, ",") })
			if comma >= 0 {
				if comma == len(inner)-1 {
					return lintf(ErrUnbounded, "quantifier at offset %d has no upper bound: write {m,n} with n ≤ %d", t.pos, MaxPathLength)
				}
				if n, err := strconv.Atoi(inner[len(inner)-1].text); err != nil || n > MaxPathLength {
					return lintf(ErrUnbounded, "quantifier at offset %d allows %s repetitions; at most %d", t.pos, clip(inner[len(inner)-1].text), MaxPathLength)
				}
			} else if n, err := strconv.Atoi(inner[0].text); err != nil || n > MaxPathLength {
				return lintf(ErrUnbounded, "quantifier at offset %d asks for %s repetitions; at most %d", t.pos, clip(inner[0].text), MaxPathLength)
			}
		}
	}
	return nil
}

// Plan details that bound an expansion: -[r:T*2..5]- (as "*", "*2..", "*..5", "*3"), and a
// quantifier "{1, }" or "{1, 5}".
var (
	varLengthRE  = regexp.MustCompile(`\[[^\[\]\s]*?\*(\d*)(\.\.(\d*))?\]`)
	quantifierRE = regexp.MustCompile(`\{\s*(\d+)\s*,\s*(\d*)\s*\}`)
)

// CheckPlan is the second acceptance step of a cypher_check query (see above), on what EXPLAIN
// said about it. It returns an error wrapping ErrNotReadOnly or ErrUnbounded.
func CheckPlan(p CypherPlan) error {
	if p.StatementType != StatementReadOnly {
		return lintf(ErrNotReadOnly, "Neo4j plans the query as %s, not %s", clip(p.StatementType), StatementReadOnly)
	}
	for _, op := range p.Operators {
		name, _, _ := strings.Cut(op.Name, "@") // "VarLengthExpand(All)@neo4j"
		switch {
		case strings.HasPrefix(name, "LoadCSV"):
			return lintf(ErrNotReadOnly, "the plan loads CSV (%s): a cypher_check reads only the twin", name)
		case strings.HasPrefix(name, "ProcedureCall"):
			proc, _, _ := strings.Cut(op.Details, "(")
			if !slices.ContainsFunc(AllowedProcedures, func(a string) bool { return strings.EqualFold(a, strings.TrimSpace(proc)) }) {
				return lintf(ErrNotReadOnly, "the plan calls procedure %s: a cypher_check may call only %s", clip(proc), strings.Join(AllowedProcedures, ", "))
			}
		case strings.HasPrefix(name, "Transaction"):
			return lintf(ErrNotReadOnly, "the plan commits in batches (%s): a cypher_check runs in one read transaction", name)
		case strings.Contains(name, "VarLengthExpand"), strings.Contains(name, "VarExpand"),
			strings.Contains(name, "ShortestPath"), strings.HasPrefix(name, "Repeat"):
			if err := checkPlanBounds(name, op.Details); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkPlanBounds(name, details string) error {
	for _, m := range varLengthRE.FindAllStringSubmatch(details, -1) {
		lo, hasRange, hi := m[1], m[2] != "", m[3]
		bound := hi
		if !hasRange {
			bound = lo
		}
		if n, err := strconv.Atoi(bound); bound == "" || err != nil || n > MaxPathLength {
			return lintf(ErrUnbounded, "the plan expands paths of unbounded or over %d hops (%s %s)", MaxPathLength, name, clip(details))
		}
	}
	for _, m := range quantifierRE.FindAllStringSubmatch(details, -1) {
		if n, err := strconv.Atoi(m[2]); m[2] == "" || err != nil || n > MaxPathLength {
			return lintf(ErrUnbounded, "the plan repeats a pattern unboundedly or over %d times (%s %s)", MaxPathLength, name, clip(details))
		}
	}
	return nil
}
