// Command rusage runs a command and reports its wall time and peak resident set size, for machines
// without GNU time (bench/backfill.sh prefers /usr/bin/time). Usage:
//
//	rusage -o FILE -- COMMAND [ARGS...]
//
// FILE receives one line "<wall seconds> <peak RSS in KiB>", like GNU time's -f '%e %M'. Standard
// input and output pass through, and the exit status is the command's.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "file for the measurements (default stderr)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: rusage -o FILE -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(127)
	}
	var rssKiB int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rssKiB = int64(ru.Maxrss)
		if runtime.GOOS == "darwin" { // bytes there, KiB on Linux
			rssKiB /= 1024
		}
	}
	line := fmt.Sprintf("%.2f %d\n", wall.Seconds(), rssKiB)
	if *out == "" {
		fmt.Fprint(os.Stderr, line)
	} else if err := os.WriteFile(*out, []byte(line), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
