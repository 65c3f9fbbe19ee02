// Package suggest measures how far a mistyped name is from the names that exist, for the "did you
// mean" hints of the DSL, the conf decoder, the expression evaluator and the warehouse. Each caller
// keeps its own policy (how close is close enough); the distance is shared so that all hints agree.
package suggest

// Distance is the optimal-string-alignment edit distance between a and b, by runes: insertions,
// deletions, substitutions and transpositions of adjacent runes ("usre" is one edit from "user")
// each cost one. Callers lower-case both sides when case should not count.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: a transposition looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
