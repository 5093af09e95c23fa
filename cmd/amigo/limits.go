package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/server"
)

// edgeFlags registers the flags of the HTTP edge's budgets
// (docs/operations.md; parseFlags reads each one's AMIGO_* variable) and
// returns a function that applies them to cfg after parsing.
func edgeFlags(fs *flag.FlagSet) func(cfg *app.Config) error {
	maxHeader := fs.Int("max-header-bytes", server.DefaultMaxHeaderBytes, "largest request line plus headers, in bytes (AMIGO_MAX_HEADER_BYTES)")
	maxBody := fs.Int64("max-body-bytes", server.DefaultMaxBodyBytes, "largest request body, in bytes (AMIGO_MAX_BODY_BYTES)")
	bodyMem := fs.Int64("max-body-memory", server.DefaultMaxBodyMemory, "memory all request bodies being read may hold together, in bytes; past it requests get 503 Unavailable (AMIGO_MAX_BODY_MEMORY)")
	headerTO := fs.Duration("header-timeout", server.DefaultHeaderTimeout, "time to read a request's line and headers (AMIGO_HEADER_TIMEOUT)")
	bodyTO := fs.Duration("body-timeout", server.DefaultBodyTimeout, "time to read a request's body (AMIGO_BODY_TIMEOUT)")
	writeTO := fs.Duration("write-timeout", server.DefaultWriteTimeout, "time for each write of an answer (a long one goes out in 256 KiB chunks); past it the connection is closed (AMIGO_WRITE_TIMEOUT)")
	idleTO := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "how long a kept-alive connection may sit idle (AMIGO_IDLE_TIMEOUT)")
	requestTO := fs.Duration("request-timeout", server.DefaultRequestTimeout, "deadline of the work on one request, up to the first byte of its answer; past it 503 ServiceUnavailable (AMIGO_REQUEST_TIMEOUT)")
	maxConns := fs.Int("max-conns", server.DefaultMaxConns, "open connections; past it a new connection gets 503 Unavailable and is closed (AMIGO_MAX_CONNS)")
	maxInFlight := fs.Int("max-in-flight", server.DefaultMaxInFlight, "requests worked on at once; past it requests are shed at once with 503 Unavailable (AMIGO_MAX_IN_FLIGHT)")
	target := fs.Duration("target-latency", 0, "time in flight of reads past which the in-flight cap shrinks (to 8 at least) so admitted requests stay quick, e.g. 200ms; 0 keeps the cap fixed at --max-in-flight (AMIGO_TARGET_LATENCY)")
	perKey := fs.Int("max-in-flight-per-key", 0, "in-flight requests of one access key; 0 for half the cap in force, -1 for no cap of its own (AMIGO_MAX_IN_FLIGHT_PER_KEY)")
	maxRunQueue := fs.Int("max-run-queue", 0, "goroutines waiting for a CPU; past it requests are shed with 503 Unavailable, as past --max-in-flight; 0 for 4 × --max-in-flight, -1 for no cap (AMIGO_MAX_RUN_QUEUE)")
	maxWriters := fs.Int("max-writers", 0, "answers being written to clients at once; past it 503 Unavailable; 0 for 4 × --max-in-flight (AMIGO_MAX_WRITERS)")
	drain := fs.Duration("shutdown-timeout", app.DefaultShutdownTimeout, "on SIGTERM, how long in-flight requests may finish before the remaining connections are closed (AMIGO_SHUTDOWN_TIMEOUT)")
	return func(cfg *app.Config) error {
		for name, v := range map[string]int64{"max-header-bytes": int64(*maxHeader), "max-body-bytes": *maxBody,
			"max-body-memory": *bodyMem, "max-conns": int64(*maxConns), "max-in-flight": int64(*maxInFlight)} {
			if v <= 0 {
				return fmt.Errorf("--%s must be positive", name)
			}
		}
		for name, v := range map[string]time.Duration{"header-timeout": *headerTO, "body-timeout": *bodyTO, "write-timeout": *writeTO,
			"idle-timeout": *idleTO, "request-timeout": *requestTO, "shutdown-timeout": *drain} {
			if v <= 0 {
				return fmt.Errorf("--%s must be positive", name)
			}
		}
		if *target < 0 {
			return fmt.Errorf("--target-latency must not be negative")
		}
		if *maxWriters < 0 {
			return fmt.Errorf("--max-writers must not be negative")
		}
		cfg.Limits = server.Limits{
			MaxHeaderBytes: *maxHeader, MaxBodyBytes: *maxBody, MaxBodyMemory: *bodyMem,
			HeaderTimeout: *headerTO, BodyTimeout: *bodyTO, WriteTimeout: *writeTO, IdleTimeout: *idleTO,
			RequestTimeout: *requestTO, MaxConns: *maxConns, MaxInFlight: *maxInFlight, MaxWriters: *maxWriters,
			MaxRunQueue: *maxRunQueue, TargetLatency: *target, MaxInFlightPerKey: *perKey,
		}
		cfg.ShutdownTimeout = *drain
		return nil
	}
}
