package starlark_api

import (
	"errors"
	"fmt"
	"github.com/chronon-go/chronon/internal/suggest"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Error is a problem in a definition file, reported as `file:line:col: message` at the user's code
// (the call site of the constructor that rejected its arguments, not the constructor's internals).
type Error struct {
	Pos syntax.Position
	Msg string
}

func (e *Error) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
}

// ErrorList is every problem found in one file (syntax and resolve errors come several at a time).
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// positioned converts an error from parsing, resolving or executing Starlark into *Error/ErrorList
// positioned at the innermost user frame. Errors that already carry a position pass through.
func positioned(err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var pl ErrorList
	if errors.As(err, &pl) {
		return pl
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return &Error{Pos: se.Pos, Msg: se.Msg}
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) {
		out := make(ErrorList, len(rl))
		for i, r := range rl {
			out[i] = &Error{Pos: r.Pos, Msg: r.Msg}
		}
		return out
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		msg := ee.Msg
		if u := errors.Unwrap(ee); u != nil {
			if inner := positioned(u); inner != nil {
				if ie, ok := inner.(*Error); ok && ie.Pos.IsValid() {
					return ie
				}
				if il, ok := inner.(ErrorList); ok {
					return il
				}
			}
		}
		for i := 0; i < len(ee.CallStack); i++ {
			fr := ee.CallStack.At(i)
			if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
				return &Error{Pos: fr.Pos, Msg: msg}
			}
		}
		return &Error{Msg: msg}
	}
	return err
}

// didYouMean returns " (did you mean X?)" for the closest candidate, or "".
func didYouMean(name string, candidates []string) string {
	best, bestD := "", len(name)/2+2
	for _, c := range candidates {
		if d := suggest.Distance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// DidYouMean returns " (did you mean X?)" naming the candidate closest to name, or "".
func DidYouMean(name string, candidates []string) string { return didYouMean(name, candidates) }
