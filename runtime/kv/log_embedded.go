package kv

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The embedded fetch log is a directory of segment files. Every opened log
// appends to segments of its own (created on first Append, named by time, pid
// and random bytes), so any number of processes may log at once without
// locks, and readers never see another writer's half-written bytes as a
// record. A segment is a header followed by frames:
//
//	uint32 payload length | uint32 CRC-32C of payload | payload
//
// all big-endian; the payload is the record's fields, each a uvarint length
// plus bytes (strings, bytes) or a varint (ints). A frame that is short or
// fails its CRC ends the segment for readers: it can only be a torn tail of a
// killed writer (or a write still in progress), since writers never append
// after a failed write to the same segment.
const (
	logSegmentHeader = "CHRONONLOG1\n"
	logSegmentExt    = ".seg"
	// logSegmentMax rotates segments so that no single file grows unbounded
	// in a long-running server.
	logSegmentMax = 128 << 20
	// logFrameMax bounds a frame so that a corrupt length never makes a reader
	// allocate gigabytes.
	logFrameMax = 256 << 20
)

var logCRC = crc32.MakeTable(crc32.Castagnoli)

type embeddedLog struct {
	dir string

	mu     sync.Mutex
	f      *os.File // current segment, nil before the first append / after a failure
	size   int64
	closed bool
}

// OpenEmbeddedLog opens the segment log in dir. Nothing is created until the
// first Append, so opening in a read-only deployment is harmless.
func OpenEmbeddedLog(dir string, _ Options) (Log, error) {
	if dir == "" {
		return nil, fmt.Errorf("kv: empty fetch log directory")
	}
	return &embeddedLog{dir: dir}, nil
}

// Append implements Log: one write and one fsync for the whole batch.
func (l *embeddedLog) Append(ctx context.Context, recs []LogRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	var buf []byte
	for i := range recs {
		buf = appendLogFrame(buf, &recs[i])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.f != nil && l.size+int64(len(buf)) > logSegmentMax && l.size > int64(len(logSegmentHeader)) {
		l.f.Close()
		l.f = nil
	}
	if l.f == nil {
		if err := l.newSegment(); err != nil {
			return err
		}
	}
	if _, err := l.f.Write(buf); err != nil {
		l.abandon()
		return fmt.Errorf("kv: append to fetch log %s: %w", l.dir, err)
	}
	if err := l.f.Sync(); err != nil {
		l.abandon()
		return fmt.Errorf("kv: sync fetch log %s: %w", l.dir, err)
	}
	l.size += int64(len(buf))
	return nil
}

// abandon drops the current segment after a failed write: whatever part of
// the batch reached the file is a torn tail that readers skip, and later
// appends go to a fresh segment so they are not hidden behind it.
func (l *embeddedLog) abandon() {
	l.f.Close()
	l.f = nil
}

func (l *embeddedLog) newSegment() error {
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return fmt.Errorf("kv: create fetch log directory (check permissions of its parent): %w", err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("kv: fetch log segment name: %w", err)
	}
	name := fmt.Sprintf("%020d-%d-%s%s", time.Now().UnixNano(), os.Getpid(), hex.EncodeToString(rnd[:]), logSegmentExt)
	path := filepath.Join(l.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("kv: create fetch log segment: %w", err)
	}
	if _, err := f.WriteString(logSegmentHeader); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("kv: write fetch log segment %s: %w", path, err)
	}
	// The new file's directory entry must survive a crash too.
	if d, err := os.Open(l.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	l.f = f
	l.size = int64(len(logSegmentHeader))
	return nil
}

// Scan implements Log, reading every segment in name (≈ creation) order.
func (l *embeddedLog) Scan(ctx context.Context, names []string, fn func(LogRecord) error) error {
	ents, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kv: read fetch log directory: %w", err)
	}
	var segs []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), logSegmentExt) {
			segs = append(segs, e.Name())
		}
	}
	sort.Strings(segs)
	for _, s := range segs {
		if err := scanSegment(ctx, filepath.Join(l.dir, s), names, fn); err != nil {
			return err
		}
	}
	return nil
}

func scanSegment(ctx context.Context, path string, names []string, fn func(LogRecord) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed meanwhile
	}
	if err != nil {
		return fmt.Errorf("kv: open fetch log segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	hdr := make([]byte, len(logSegmentHeader))
	if _, err := io.ReadFull(r, hdr); err != nil || string(hdr) != logSegmentHeader {
		// Empty (its creator died before the header) or not ours: no records.
		return nil
	}
	var head [8]byte
	var payload []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil // end, or a torn frame header
		}
		n := binary.BigEndian.Uint32(head[:4])
		sum := binary.BigEndian.Uint32(head[4:])
		if n > logFrameMax {
			return nil
		}
		if cap(payload) < int(n) {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return nil
		}
		if crc32.Checksum(payload, logCRC) != sum {
			return nil
		}
		rec, ok := decodeLogPayload(payload)
		if !ok {
			return nil
		}
		if !nameIn(rec.Name, names) {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Close implements Log.
func (l *embeddedLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.f != nil {
		err := l.f.Close()
		l.f = nil
		if err != nil {
			return fmt.Errorf("kv: close fetch log segment: %w", err)
		}
	}
	return nil
}

func appendLogFrame(dst []byte, r *LogRecord) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = appendLogBytes(dst, []byte(r.Name))
	dst = appendLogBytes(dst, r.KeyBytes)
	dst = appendLogBytes(dst, r.ValueBytes)
	dst = binary.AppendVarint(dst, r.TsMillis)
	dst = appendLogBytes(dst, []byte(r.SchemaHash))
	dst = binary.AppendVarint(dst, r.WriteMillis)
	payload := dst[start+8:]
	binary.BigEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, logCRC))
	return dst
}

func appendLogBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decodeLogPayload parses a payload whose CRC matched; ok is false only for a
// payload written by an incompatible writer.
func decodeLogPayload(p []byte) (LogRecord, bool) {
	var r LogRecord
	ok := true
	bytesField := func() []byte {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			ok = false
			return nil
		}
		b := append([]byte{}, p[k:k+int(n)]...)
		p = p[k+int(n):]
		return b
	}
	intField := func() int64 {
		v, k := binary.Varint(p)
		if k <= 0 {
			ok = false
			return 0
		}
		p = p[k:]
		return v
	}
	r.Name = string(bytesField())
	r.KeyBytes = bytesField()
	r.ValueBytes = bytesField()
	r.TsMillis = intField()
	r.SchemaHash = string(bytesField())
	r.WriteMillis = intField()
	return r, ok
}
