package expr

import "sync"

// boundedCache memoizes compiled patterns for values computed per row; it is cleared when full so
// that data-driven patterns cannot grow memory without bound.
type boundedCache[V any] struct {
	mu  sync.RWMutex
	m   map[string]V
	max int
}

func newBoundedCache[V any](max int) *boundedCache[V] {
	return &boundedCache[V]{m: map[string]V{}, max: max}
}

func (c *boundedCache[V]) get(k string) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *boundedCache[V]) put(k string, v V) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[string]V{}
	}
	c.m[k] = v
	c.mu.Unlock()
}
