package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"user", "user", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"usre", "user", 1},    // transposition
		{"events", "event", 1}, // deletion
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // OSA: no edit of a transposed pair
		{"über", "uber", 1},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.want)
		}
	}
}
