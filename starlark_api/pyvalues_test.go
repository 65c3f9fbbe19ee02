package starlark_api

import (
	"testing"

	"go.starlark.net/starlark"
)

// argMap values and customJson are rendered as Python's str() and json.dumps() render them (spec §1.4).
func TestPythonRenderings(t *testing.T) {
	list := starlark.NewList([]starlark.Value{starlark.Float(0.99), starlark.MakeInt(1), starlark.String("it's"), starlark.None, starlark.True})
	if got, _ := pyStr(list); got != `[0.99, 1, "it's", None, True]` {
		t.Errorf("pyStr(list) = %s", got)
	}
	if got, _ := pyStr(starlark.MakeInt(10)); got != "10" {
		t.Errorf("pyStr(10) = %s", got)
	}
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("b"), starlark.NewList([]starlark.Value{starlark.Float(1e-7), starlark.False}))
	_ = d.SetKey(starlark.String("a"), starlark.String("é"))
	v, err := starlarkToJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := pyJSON(v); got != `{"b": [1e-07, false], "a": "\u00e9"}` {
		t.Errorf("pyJSON = %s", got)
	}
}

func TestSanitizeAndWaitForName(t *testing.T) {
	if got := Sanitize("team.file-v1/é"); got != "team_file_v1__" {
		t.Errorf("Sanitize = %s", got)
	}
	if got := waitForName("sample.users/ds={{ ds }}"); got != "wait_for_sample_users_ds_ds" {
		t.Errorf("waitForName = %s", got)
	}
}
