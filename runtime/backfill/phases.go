package backfill

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// CHRONON_PHASES=1 prints each backfill step's wall time, CPU use (user plus system time over wall
// time: 200% is two cores busy), peak RSS so far and page faults on stderr. Performance work reads
// it to find the step worth speeding up, and the steps that leave cores idle (docs/bench.md).
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
