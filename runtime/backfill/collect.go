package backfill

import (
	"runtime"
	"runtime/metrics"
)

// collectGarbage runs a collection when at least collectMin bytes were allocated since the last
// one. Backfills run with the collector off until the memory limit (cmds.applyMemoryLimit), so
// without this every buffer of every part would be fresh memory, each page a fault (about a third
// of a join's CPU time at ten million events). Called where a large step's buffers just became
// garbage and the next step is about to allocate; little is live there (compact list outputs hold
// few pointers), so marking takes about 10 ms.
func collectGarbage(where string) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return // not reported by this runtime
	}
	if s[1].Value.Uint64() < s[0].Value.Uint64()+collectMin {
		return
	}
	runtime.GC()
	phase("collect (" + where + ")")
}

const collectMin = 256 << 20
