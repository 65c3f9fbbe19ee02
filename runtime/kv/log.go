package kv

import (
	"context"
	"sync"
)

// SchemaPublishEvent is the Name of log records that publish a logging schema (spec §8.1): Key is the
// UTF-8 schema hash, Value the UTF-8 logging schema JSON.
const SchemaPublishEvent = "SCHEMA_PUBLISH_EVENT"

// LogRecord is one logged fetch or schema publication (spec §8.1, Chronon's LoggableResponse).
type LogRecord struct {
	// Name is the request's join name ("team/file.var") or SchemaPublishEvent.
	Name string
	// KeyBytes and ValueBytes are the Avro-encoded key and value records of the logging schema
	// (for schema publications: the hash and the schema JSON, UTF-8).
	KeyBytes   []byte
	ValueBytes []byte
	// TsMillis is the request's query time (atMillis, else the request start).
	TsMillis int64
	// SchemaHash names the logging schema ("" for schema publications).
	SchemaHash string
	// WriteMillis is when the record was appended to the log.
	WriteMillis int64
}

// Log is the durable fetch log (spec §8.1–8.2): an append-only sequence of records that fetching
// processes append to and log-flattener reads. Appends from several processes at once are allowed
// (a read-only Store's process may still log). Implementations are safe for concurrent use.
type Log interface {
	// Append durably appends records (all of them, or an error).
	Append(ctx context.Context, recs []LogRecord) error
	// Scan calls fn for every complete record whose Name is in names (all records when names is
	// empty), in no particular order. Records torn by a crash are skipped, never returned.
	Scan(ctx context.Context, names []string, fn func(LogRecord) error) error
	Close() error
}

// MemLog is an in-memory Log for tests.
type MemLog struct {
	mu   sync.Mutex
	recs []LogRecord
}

// Append implements Log.
func (m *MemLog) Append(_ context.Context, recs []LogRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

// Scan implements Log.
func (m *MemLog) Scan(ctx context.Context, names []string, fn func(LogRecord) error) error {
	m.mu.Lock()
	recs := append([]LogRecord(nil), m.recs...)
	m.mu.Unlock()
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !nameIn(r.Name, names) {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Log.
func (m *MemLog) Close() error { return nil }

func nameIn(n string, names []string) bool {
	if len(names) == 0 {
		return true
	}
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}
