package backfill

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows a long job's state. On a terminal it keeps one status line up to date (done
// partitions, rows, elapsed time, ETA, current step); piped, it prints only the per-chunk lines.
type progress struct {
	w     io.Writer
	tty   bool
	what  string
	total int // partitions to compute
	done  int
	rows  int
	began time.Time
}

func newProgress(w io.Writer, what string, total int) *progress {
	p := &progress{w: w, what: what, total: total, began: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// step shows what is being computed now (terminal only).
func (p *progress) step(format string, args ...any) {
	if !p.tty {
		return
	}
	eta := "?"
	if p.done > 0 {
		per := time.Since(p.began) / time.Duration(p.done)
		eta = (per * time.Duration(p.total-p.done)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %d/%d partitions, %d rows, %s elapsed, ETA %s: %s", p.what, p.done, p.total, p.rows,
		time.Since(p.began).Round(time.Second), eta, fmt.Sprintf(format, args...))
}

// chunkDone records a finished chunk and prints its line.
func (p *progress) chunkDone(partitions, rows int, format string, args ...any) {
	p.done += partitions
	p.rows += rows
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
