package starlark_api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// TeamsFile is the team defaults file at the repository root, in Chronon's format (spec §1.3).
const TeamsFile = "teams.json"

// Teams is a parsed teams.json: team name → its settings, with the "default" team as fallback.
type Teams struct {
	Path  string
	teams map[string]*jsonObject
	names []string
}

// ReadTeams reads and checks <root>/teams.json.
func ReadTeams(root string) (*Teams, error) {
	p := filepath.Join(root, TeamsFile)
	data, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: missing: every chronon root needs a teams.json with at least a \"default\" team (see docs/dsl.md)", p)
		}
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("%s: malformed JSON%s: %v", p, jsonErrorPos(data, err), err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%s: malformed JSON: unexpected data after the top-level object", p)
	}
	top, ok := v.(*jsonObject)
	if !ok {
		return nil, fmt.Errorf("%s: the top level must be an object of teams", p)
	}
	t := &Teams{Path: p, teams: map[string]*jsonObject{}}
	for _, name := range top.keys {
		o, ok := top.vals[name].(*jsonObject)
		if !ok {
			return nil, fmt.Errorf("%s: team %q must be an object", p, name)
		}
		t.teams[name] = o
		t.names = append(t.names, name)
	}
	if _, ok := t.teams["default"]; !ok {
		return nil, fmt.Errorf("%s: no \"default\" team: add one with the defaults (e.g. \"table_properties\")", p)
	}
	for _, name := range t.names {
		if ns, ok := t.teams[name].vals["namespace"]; ok {
			if _, isStr := ns.(string); !isStr {
				return nil, fmt.Errorf("%s: team %q: namespace must be a string", p, name)
			}
		}
		if tp, ok := t.teams[name].vals["table_properties"]; ok {
			o, isObj := tp.(*jsonObject)
			if !isObj {
				return nil, fmt.Errorf("%s: team %q: table_properties must be an object of strings", p, name)
			}
			for _, k := range o.keys {
				if _, isStr := o.vals[k].(string); !isStr {
					return nil, fmt.Errorf("%s: team %q: table_properties[%q] must be a string", p, name, k)
				}
			}
		}
	}
	return t, nil
}

func jsonErrorPos(data []byte, err error) string {
	var se *json.SyntaxError
	off := int64(-1)
	if errors.As(err, &se) {
		off = se.Offset
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		off = ue.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return ""
	}
	line := bytes.Count(data[:off], []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf(" at line %d, column %d", line, col)
}

// Exists reports whether team is declared.
func (t *Teams) Exists(team string) bool { _, ok := t.teams[team]; return ok }

func (t *Teams) unknown(team string) error {
	names := append([]string(nil), t.names...)
	sort.Strings(names)
	return fmt.Errorf("team %q does not exist in %s%s; add it there (known teams: %s)", team, t.Path, didYouMean(team, names), strings.Join(names, ", "))
}

// lookup returns the team's value for key, else the default team's; ok is false when neither has it.
func (t *Teams) lookup(team, key string) (any, bool, error) {
	o, ok := t.teams[team]
	if !ok {
		return nil, false, t.unknown(team)
	}
	if v, ok := o.vals[key]; ok {
		return v, true, nil
	}
	v, ok := t.teams["default"].vals[key]
	return v, ok, nil
}

// Namespace is the team's output namespace (or the default team's).
func (t *Teams) Namespace(team string) (string, error) {
	v, ok, err := t.lookup(team, "namespace")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s: neither team %q nor \"default\" sets a namespace", t.Path, team)
	}
	return v.(string), nil
}

// TableProperties is the team's table_properties (or the default team's), in file order; nil if unset.
func (t *Teams) TableProperties(team string) (keys []string, props map[string]string, err error) {
	v, ok, err := t.lookup(team, "table_properties")
	if err != nil || !ok {
		return nil, nil, err
	}
	o := v.(*jsonObject)
	props = map[string]string{}
	for _, k := range o.keys {
		props[k] = o.vals[k].(string)
	}
	return o.keys, props, nil
}

// CommonEnv returns the string values of the team's common_env merged over the default team's
// (run-time settings such as CHRONON_WAREHOUSE).
func (t *Teams) CommonEnv(team string) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"default", team} {
		o, ok := t.teams[name]
		if !ok {
			continue
		}
		if env, ok := o.vals["common_env"].(*jsonObject); ok {
			for _, k := range env.keys {
				if s, ok := env.vals[k].(string); ok {
					out[k] = s
				}
			}
		}
	}
	return out
}

func (l *Loader) teamNamespace(team string) (string, error) {
	if l.teams == nil {
		t, err := ReadTeams(l.Root)
		if err != nil {
			return "", err
		}
		l.teams = t
	}
	return l.teams.Namespace(team)
}
