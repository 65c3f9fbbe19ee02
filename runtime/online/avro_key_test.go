package online

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

// Fetch-time keys given as strings (a CLI/HTTP request) encode to the bytes of the typed upload keys.
func TestEncodeKeyMatchesUpload(t *testing.T) {
	s, err := NewAvroSchema("Key", types.Schema{{Name: "user_id", Type: types.LongType},
		{Name: "score", Type: types.DoubleType}, {Name: "item", Type: types.StringType}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		id := int64(rng.Uint64())
		score := rng.NormFloat64() * 1e6
		item := strconv.Itoa(rng.IntN(100))
		upload, err := s.Encode([]any{id, score, item})
		if err != nil {
			t.Fatal(err)
		}
		fetch, err := s.EncodeKeyMap(map[string]any{"user_id": strconv.FormatInt(id, 10),
			"score": strconv.FormatFloat(score, 'g', -1, 64), "item": int64(mustAtoi(item))})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(upload, fetch) {
			t.Fatalf("key (%d, %v, %q): upload %x, fetch %x", id, score, item, upload, fetch)
		}
		m, err := s.DecodeMap(fetch)
		if err != nil || m["user_id"] != id || m["score"] != score || m["item"] != item {
			t.Fatalf("DecodeMap: %v %v", m, err)
		}
	}
	// Request JSON decoded with UseNumber: json.Number casts like Chronon's Jackson-parsed numbers.
	str, err := NewAvroSchema("Key", types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "n", Type: types.LongType}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := str.Encode([]any{"5", int64(7)})
	got, err := str.EncodeKey([]any{json.Number("5"), json.Number("7")})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("json.Number keys: %x %v, want %x", got, err, want)
	}
	// Missing keys are null; AppendEncode appends.
	b, err := s.AppendEncode([]byte{0xff}, []any{nil, nil, "5"})
	if err != nil || !bytes.Equal(b, []byte{0xff, 0, 0, 2, 2, '5'}) {
		t.Fatalf("AppendEncode: %x %v", b, err)
	}
	b, err = s.EncodeKeyMap(map[string]any{"item": "5"})
	if err != nil || !bytes.Equal(b, []byte{0, 0, 2, 2, '5'}) {
		t.Fatalf("EncodeKeyMap: %x %v", b, err)
	}
}

func mustAtoi(s string) int {
	i, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return i
}

func TestJavaDoubleString(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{{5, "5.0"}, {-0.5, "-0.5"}, {0.001, "0.001"}, {0.0001, "1.0E-4"}, {1e7, "1.0E7"}, {9999999, "9999999.0"},
		{123456789.125, "1.23456789125E8"}, {1.5e-10, "1.5E-10"}, {1e300, "1.0E300"}} {
		if got := JavaDoubleString(c.f); got != c.want {
			t.Errorf("JavaDoubleString(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}
