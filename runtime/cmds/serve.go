package cmds

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/server"
)

// Serve is `chronon serve`: the HTTP JSON feature service (docs/serve.md) over the online store of
// the upload (--kv / CHRONON_KV, OpenKV), opened read-only.
func Serve() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve join and GroupBy features over HTTP JSON (POST /v1/features/join/{name})",
		ArgsUsage: " ",
		Description: "Routes: POST /v1/features/join/{name}, POST /v1/features/groupby/{name} (body: a JSON list of key maps),\n" +
			"GET /health, GET /metrics. SIGINT/SIGTERM stop accepting and drain in-flight requests.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:9000", Usage: "listen address (loopback by default; use 0.0.0.0:9000 to expose)"},
			KVFlag(),
			&cli.Int64Flag{Name: "max-body-bytes", Value: server.DefaultMaxBodyBytes, Usage: "largest request body (413 above)"},
			&cli.DurationFlag{Name: "timeout", Value: server.DefaultTimeout, Usage: "per-request fetch timeout (503 after)"},
			&cli.DurationFlag{Name: "drain", Value: 30 * time.Second, Usage: "how long shutdown waits for in-flight requests"},
			noLogFlag(),
		},
		Action: serveAction,
	}
}

func serveAction(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := OpenKV(ctx, c, kv.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer store.Close()
	logw := c.App.ErrWriter
	if logw == nil {
		logw = os.Stderr
	}
	f := online.NewFetcher(store)
	fl := startFetchLogging(ctx, c, f, logw)
	h := server.New(f, server.Options{
		MaxBodyBytes: c.Int64("max-body-bytes"),
		Timeout:      c.Duration("timeout"),
		Ping:         server.StorePing(store),
	})
	if fl != nil {
		h.SetFetchLog(fl.logger)
	}
	// Runs after Serve has drained in-flight requests: their sampled fetches are flushed.
	defer fl.Close(logw)
	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(logw, "chronon serve: listening on http://%s (store %s)\n", ln.Addr(), kv.RedactURI(KVTarget(c)))
	err = server.Serve(ctx, ln, h, c.Duration("drain"))
	fmt.Fprintln(logw, "chronon serve: stopped")
	return err
}
