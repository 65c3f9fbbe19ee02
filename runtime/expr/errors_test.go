package expr

import (
	"errors"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

func TestErrorShowsTheOffendingLine(t *testing.T) {
	schema := types.Schema{{Name: "user_id", Type: types.StringType}}
	_, err := Compile("CASE\n  WHEN usr_id = 'é' THEN 1\nEND", schema)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := "unknown column \"usr_id\" (did you mean \"user_id\"?)\n    WHEN usr_id = 'é' THEN 1\n         ^"
	if err.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", err, want)
	}
	if l, c := ce.LineCol(); l != 2 || c != 8 {
		t.Fatalf("LineCol = %d:%d, want 2:8", l, c)
	}
	_, err = Compile("'é' || nope", schema)
	errors.As(err, &ce)
	if l, c := ce.LineCol(); l != 1 || c != 8 {
		t.Fatalf("LineCol = %d:%d, want 1:8 (characters, not bytes)", l, c)
	}
}
