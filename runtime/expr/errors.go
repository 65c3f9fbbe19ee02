package expr

import (
	"fmt"
	textdist "github.com/chronon-go/chronon/internal/suggest"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is a compile error located in the expression source. Its message shows the offending line
// with a caret under the position, so users can fix a select or derivation without guessing.
type Error struct {
	Msg string // the message without the source excerpt
	Src string // the whole expression
	Pos int    // byte offset into Src
}

func (e *Error) Error() string {
	if e.Src == "" {
		return e.Msg
	}
	// Show only the line that holds the position; multi-line selects are common in Starlark files.
	start := strings.LastIndexByte(e.Src[:min(e.Pos, len(e.Src))], '\n') + 1
	end := strings.IndexByte(e.Src[start:], '\n')
	if end < 0 {
		end = len(e.Src)
	} else {
		end += start
	}
	line := e.Src[start:end]
	col := utf8.RuneCountInString(e.Src[start:min(e.Pos, end)])
	return fmt.Sprintf("%s\n  %s\n  %s^", e.Msg, line, strings.Repeat(" ", col))
}

// LineCol returns the 1-based line and column (in characters) of the error position, for callers
// that report file:line:col locations of expressions embedded in configuration files.
func (e *Error) LineCol() (line, col int) {
	p := min(e.Pos, len(e.Src))
	line = strings.Count(e.Src[:p], "\n") + 1
	start := strings.LastIndexByte(e.Src[:p], '\n') + 1
	return line, utf8.RuneCountInString(e.Src[start:p]) + 1
}

func errorf(src string, pos int, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Src: src, Pos: pos}
}

// suggest returns the candidate closest to name, or "" when none is close enough to be a likely typo.
func suggest(name string, candidates []string) string {
	lname := strings.ToLower(name)
	best, bestD := "", 1<<30
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted) // deterministic tie-breaking
	for _, c := range sorted {
		d := textdist.Distance(lname, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(2, len(name)/3)
	if bestD <= limit && bestD < len(name) {
		return best
	}
	return ""
}
