package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The fast JSON paths must give exactly encoding/json's results, or step aside.

func TestParseKeysFastMatchesEncodingJSON(t *testing.T) {
	bodies := []string{
		`[{"user_id": "5"}]`, `[]`, ` [ ] `, `[{}]`, `[{"a":1,"b":-2.5e3,"c":true,"d":false,"e":null}]`,
		`[{"user_id": "5"}, {"user_id": 7}]`, "\t[\n{\"a\" :\r\"x\"} ]\n", `[{"a":"1","a":"2"}]`,
		`[{"a":0}]`, `[{"a":-0.0}]`, `[{"a":1E+2}]`, `[{"a":12345678901234567890}]`,
		// not for the fast path (or invalid): the fallback decides
		`[{"a":01}]`, `[{"a":1.}]`, `[{"a":.5}]`, `[{"a":-}]`, `[{"a":1e}]`, `[{"a":"\u00e9"}]`,
		`[{"a":"é"}]`, `[{"a":"x\"y"}]`, `[{"a":[1]}]`, `[{"a":{"b":1}}]`, `[null]`, `null`, ``,
		`[{"a":1}] x`, `[{"a":1}][]`, `[{"a":tru}]`, `[{"a":truex}]`, `[{"a" 1}]`, `[{"a":1,}]`,
		`[{"a":1},]`, `{"a":1}`, `[{"a":"` + "\x01" + `"}]`, `[{"a":"` + "\xff" + `"}]`,
	}
	accepted := 0
	for _, b := range bodies {
		fast, ok := parseKeysFast([]byte(b))
		var want []map[string]any
		dec := json.NewDecoder(strings.NewReader(b))
		dec.UseNumber()
		err := dec.Decode(&want)
		if err == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				err = errors.New("trailing data")
			}
		}
		if !ok {
			continue
		}
		accepted++
		if err != nil {
			t.Errorf("%q: fast path accepted what encoding/json rejects (%v)", b, err)
			continue
		}
		if !reflect.DeepEqual(fast, want) {
			t.Errorf("%q: fast %#v, encoding/json %#v", b, fast, want)
		}
	}
	if accepted < 12 {
		t.Errorf("the fast path took only %d bodies", accepted)
	}
}

func TestAppendResponseMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "a", "<b>&'", "\"\\/", "\n\r\t\b\f\x00\x1f", "é€😀", "\u2028\u2029", "\xff\xfe", "x\xc3"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1e-6, 123456789, 1e20, 1e21, 1e-300, 5e-324,
		math.MaxFloat64, 0.1, 1.0 / 3, 2.5e-9}
	var value func(depth int) any
	value = func(depth int) any {
		switch rng.IntN(12) {
		case 0:
			return nil
		case 1:
			return strs[rng.IntN(len(strs))]
		case 2:
			return rng.IntN(2) == 0
		case 3:
			return rng.Int64() - rng.Int64()
		case 4:
			return floats[rng.IntN(len(floats))] * float64(1-2*rng.IntN(2))
		case 5:
			return json.Number([]string{"1", "-2.5e3", "0", ""}[rng.IntN(4)])
		case 6:
			if rng.IntN(3) == 0 {
				return []byte(nil)
			}
			return []byte(strs[rng.IntN(len(strs))])
		case 7, 8:
			if depth > 2 {
				return "leaf"
			}
			l := make([]any, rng.IntN(4))
			for i := range l {
				l[i] = value(depth + 1)
			}
			return l
		case 9, 10:
			if depth > 2 {
				return int64(7)
			}
			m := map[string]any{}
			for i := rng.IntN(5); i > 0; i-- {
				m[strs[rng.IntN(len(strs))]+string(rune('a'+rng.IntN(26)))] = value(depth + 1)
			}
			return m
		}
		return rng.Float64() * math.Pow(10, float64(rng.IntN(60)-30))
	}
	fast := 0
	for n := 0; n < 3000; n++ {
		var results []Result
		if n%50 != 0 {
			results = make([]Result, rng.IntN(4))
		}
		for i := range results {
			r := &results[i]
			r.Status = []string{"Success", "Failure"}[rng.IntN(2)]
			if rng.IntN(5) > 0 {
				r.EntityKeys = map[string]any{"user_id": value(2)}
			}
			if rng.IntN(3) > 0 {
				r.Features = map[string]any{}
				for j := rng.IntN(12); j > 0; j-- {
					r.Features[strs[rng.IntN(len(strs))]+string(rune('a'+rng.IntN(26)))] = value(0)
				}
			} else if rng.IntN(2) == 0 {
				r.Features = map[string]any{}
			}
			if rng.IntN(4) == 0 {
				r.Error = strs[rng.IntN(len(strs))]
			}
		}
		var want bytes.Buffer
		werr := json.NewEncoder(&want).Encode(FeaturesResponse{Results: results})
		got, ok := appendResponse(nil, results)
		if !ok {
			continue
		}
		if werr != nil {
			t.Fatalf("fast encoder accepted what encoding/json rejects (%v): %q", werr, got)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("fast:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
		fast++
	}
	if fast < 1000 {
		t.Errorf("only %d of 3000 responses took the fast path", fast)
	}
	// NaN is left to encoding/json (which fails).
	if _, ok := appendResponse(nil, []Result{{Features: map[string]any{"x": math.NaN()}}}); ok {
		t.Error("NaN encoded by the fast path")
	}
}
