package backfill

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
)

// CHRONON_PHASES=1 prints each backfill step's wall time, CPU use (user plus system time over wall
// time: 200% is two cores busy), peak RSS so far and page faults on stderr. Performance work reads it to find the step worth
// speeding up, and the steps that leave cores idle (docs/bench.md).
var phases = struct {
	on         bool
	mu         sync.Mutex
	start      time.Time
	last       time.Time
	lastCPU    time.Duration
	lastFaults int64
}{on: os.Getenv("CHRONON_PHASES") != "", start: time.Now(), last: time.Now()}

// phase ends the step called name.
func phase(name string) {
	if !phases.on {
		return
	}
	phases.mu.Lock()
	defer phases.mu.Unlock()
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	wall := now.Sub(phases.last)
	fmt.Fprintf(os.Stderr, "phase %-10s ends at %6.3fs: %6.3fs wall, cpu %3.0f%%, peak RSS %4d MB, %6d page faults\n", name, now.Sub(phases.start).Seconds(),
		wall.Seconds(), 100*float64(cpu-phases.lastCPU)/float64(wall), ru.Maxrss>>10, ru.Minflt-phases.lastFaults)
	phases.lastFaults = ru.Minflt
	phases.last, phases.lastCPU = now, cpu
}

// collectGarbage runs a collection when at least collectMin bytes were allocated since the last
// one. Backfills run with the collector off until the memory limit (cmds.applyMemoryLimit), so
// without this every buffer of every part would be fresh memory, each page a fault (about a third
// of a join's CPU time at ten million events). Called where a large step's buffers just became
// garbage and the next step is about to allocate; little is live there (compact list outputs hold
// few pointers), so marking takes about 10 ms.
func collectGarbage(where string) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[1].Value.Uint64() < s[0].Value.Uint64()+collectMin {
		return
	}
	runtime.GC()
	phase("collect (" + where + ")")
}

const collectMin = 256 << 20
