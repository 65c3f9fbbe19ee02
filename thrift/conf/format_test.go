package conf_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Doubles are written as Python's repr writes them (spec §1.5).
func TestPyFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{100, "100.0"}, {5, "5.0"}, {0.1, "0.1"}, {1e-05, "1e-05"}, {0.0001, "0.0001"}, {1e16, "1e+16"},
		{1.5e16, "1.5e+16"}, {123456789012345.6, "123456789012345.6"}, {-2.5, "-2.5"}, {0, "0.0"}, {1e22, "1e+22"},
		{0.3333333333333333, "0.3333333333333333"}, {9999999999999998, "9999999999999998.0"},
	} {
		got, err := conf.PyFloat(c.f)
		if err != nil || got != c.want {
			t.Errorf("PyFloat(%v) = %q, %v; want %q", c.f, got, err, c.want)
		}
	}
}

// Strings are escaped as json.dumps(ensure_ascii=True) does.
func TestStringEscaping(t *testing.T) {
	var b bytes.Buffer
	conf.WriteJSONString(&b, "a\"b\\c/d\n\t\x01\x7fé€😀")
	want := `"a\"b\\c/d\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00"`
	if b.String() != want {
		t.Errorf("got %s want %s", b.String(), want)
	}
}

// Map keys keep their recorded order; unrecorded maps are sorted; compact output has no spaces.
func TestMapOrderAndCompact(t *testing.T) {
	o := conf.NewOrder()
	q := &api.Query{Selects: map[string]string{"b": "1", "a": "2", "c": "3"}}
	o.Set(q.Selects, []string{"c", "a", "b"})
	out, err := conf.MarshalCompact(q, o)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"selects":{"c":"3","a":"2","b":"1"}}` {
		t.Errorf("got %s", out)
	}
	out, _ = conf.MarshalCompact(q, nil)
	if string(out) != `{"selects":{"a":"2","b":"1","c":"3"}}` {
		t.Errorf("unordered: got %s", out)
	}
	c := conf.Clone(q, o)
	if got := o.Keys(c.Selects); strings.Join(got, ",") != "c,a,b" {
		t.Errorf("clone lost the order: %v", got)
	}
}

// Malformed confs are rejected with the path of the offending field.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"metaData": {"online": "yes"}}`, `metaData.online: expected a boolean (1 or 0), got string "yes"`},
		{`{"aggregations": [{"operation": 42}]}`, `aggregations[0].operation: 42 is not a valid Operation`},
		{`{"keyColumns": "user_id"}`, `keyColumns: expected a list, got string "user_id"`},
		{`{"sources": [{"event": {}}]}`, `sources[0]: unknown field "event" in Source (did you mean "events"?)`},
		{`{"metaData": {"name": "x"}`, `unexpected end of the conf`},
		{`{"accuracy": "SNAPSHOT"}`, ``},
	} {
		var gb api.GroupBy
		_, err := conf.Unmarshal([]byte(c.in), &gb)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: got %q want %q", c.in, got, c.want)
		}
	}
}
