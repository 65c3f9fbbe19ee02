package backfill

import (
	"fmt"
	"regexp"
	"strings"
)

// A StagingQuery macro: `{{ name }}` or `{{ name(k=v, ...) }}` with optional spaces (Chronon's
// ParametricMacro); the value is substituted as plain text, no quoting added.
type macro struct {
	name string
	fn   func(args map[string]string) (string, error)
}

func macroPattern(name string) *regexp.Regexp {
	return regexp.MustCompile(`\{\{\s*` + regexp.QuoteMeta(name) + `(\([\s0-9A-Za-z_.,=]*\))?\s*}}`)
}

// unresolvedMacro finds anything still looking like a macro after substitution.
var unresolvedMacro = regexp.MustCompile(`\{\{\s*\w+.*?}}`)

// parseMacroArgs reads `k=v, k2=v2`; a token without `=` continues the previous value (a value may
// contain commas), as Chronon does.
func parseMacroArgs(inner string) (map[string]string, error) {
	args := map[string]string{}
	var last string
	for _, tok := range strings.Split(inner, ",") {
		if strings.Count(tok, "=") > 1 {
			return nil, fmt.Errorf("macro argument %q has more than one =", tok)
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			if last == "" {
				if strings.TrimSpace(tok) == "" {
					continue
				}
				return nil, fmt.Errorf("macro argument %q is not key=value", tok)
			}
			args[last] += "," + strings.TrimSpace(tok)
			continue
		}
		last = strings.TrimSpace(k)
		args[last] = strings.TrimSpace(v)
	}
	return args, nil
}

// render substitutes the macros in order, then fails on anything left over.
func render(query string, macros []macro) (string, error) {
	out := query
	for _, m := range macros {
		var err error
		out = macroPattern(m.name).ReplaceAllStringFunc(out, func(match string) string {
			if err != nil {
				return match
			}
			args := map[string]string{}
			if i := strings.IndexByte(match, '('); i >= 0 {
				j := strings.LastIndexByte(match, ')')
				args, err = parseMacroArgs(match[i+1 : j])
				if err != nil {
					err = fmt.Errorf("%s: %w", match, err)
					return match
				}
			}
			v, ferr := m.fn(args)
			if ferr != nil {
				err = fmt.Errorf("%s: %w", match, ferr)
				return match
			}
			return v
		})
		if err != nil {
			return "", err
		}
	}
	if left := unresolvedMacro.FindAllString(out, -1); len(left) > 0 {
		seen := map[string]bool{}
		var uniq []string
		for _, l := range left {
			if !seen[l] {
				seen[l] = true
				uniq = append(uniq, l)
			}
		}
		return "", fmt.Errorf("unresolved template macro(s) after substitution: %s; supported macros: start_date, end_date, latest_date, max_date(table=namespace.table)",
			strings.Join(uniq, ", "))
	}
	return out, nil
}
