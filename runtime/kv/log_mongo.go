package kv

import (
	"context"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoLogCollection holds the fetch log in the store's database, one document
// per record (like the quickstart's MongoLoggingDumper input):
// {name, key: binary, value: binary, ts_millis, schema_hash (null for schema
// publications), write_millis}, indexed on name for log-flattener's filter.
const MongoLogCollection = "chronon_fetch_log"

type mongoLog struct {
	// store owns the client, timeouts and credential scrubbing.
	store   *mongoStore
	coll    *mongo.Collection
	indexMu sync.Mutex
	indexed atomic.Bool
}

type mongoLogDoc struct {
	Name        string  `bson:"name"`
	Key         []byte  `bson:"key"`
	Value       []byte  `bson:"value"`
	TsMillis    int64   `bson:"ts_millis"`
	SchemaHash  *string `bson:"schema_hash"`
	WriteMillis int64   `bson:"write_millis"`
}

// OpenMongoLog connects to the MongoDB at uri for the fetch log. mo.ReadOnly
// is ignored: a read-only store user may still log.
func OpenMongoLog(ctx context.Context, uri string, mo MongoOptions) (Log, error) {
	mo.ReadOnly = false
	s, err := OpenMongoWith(ctx, uri, mo)
	if err != nil {
		return nil, err
	}
	ms := s.(*mongoStore)
	return &mongoLog{store: ms, coll: ms.db.Collection(MongoLogCollection)}, nil
}

// ensureIndex creates the name index once per log (idempotent on the server).
func (l *mongoLog) ensureIndex(ctx context.Context) error {
	if l.indexed.Load() {
		return nil
	}
	l.indexMu.Lock()
	defer l.indexMu.Unlock()
	if l.indexed.Load() {
		return nil
	}
	cctx, cancel := l.store.opCtx(ctx)
	defer cancel()
	_, err := l.coll.Indexes().CreateOne(cctx, mongo.IndexModel{Keys: bson.D{{Key: "name", Value: 1}}})
	if err != nil {
		return l.store.wrap("create index on "+MongoLogCollection, err)
	}
	l.indexed.Store(true)
	return nil
}

// Append implements Log.
func (l *mongoLog) Append(ctx context.Context, recs []LogRecord) error {
	if err := l.store.check(ctx, false); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	if err := l.ensureIndex(ctx); err != nil {
		return err
	}
	docs := make([]any, len(recs))
	for i := range recs {
		r := &recs[i]
		d := mongoLogDoc{Name: r.Name, Key: nonNil(r.KeyBytes), Value: nonNil(r.ValueBytes), TsMillis: r.TsMillis, WriteMillis: r.WriteMillis}
		if r.SchemaHash != "" {
			h := r.SchemaHash
			d.SchemaHash = &h
		}
		docs[i] = d
	}
	return l.store.insert(ctx, MongoLogCollection, docs)
}

// Scan implements Log.
func (l *mongoLog) Scan(ctx context.Context, names []string, fn func(LogRecord) error) error {
	if err := l.store.check(ctx, false); err != nil {
		return err
	}
	filter := bson.D{}
	if len(names) > 0 {
		filter = bson.D{{Key: "name", Value: bson.D{{Key: "$in", Value: names}}}}
	}
	// A scan of a big log may take longer than one operation's timeout: the timeout bounds each
	// round trip (the find, then every batch), the caller's context the whole scan.
	fctx, fcancel := l.store.opCtx(ctx)
	cur, err := l.coll.Find(fctx, filter, options.Find().SetBatchSize(int32(l.store.batchSize)))
	fcancel()
	if err != nil {
		return l.store.wrap("scan "+MongoLogCollection, err)
	}
	defer cur.Close(context.Background())
	for {
		nctx, ncancel := l.store.opCtx(ctx)
		ok := cur.Next(nctx)
		ncancel()
		if !ok {
			break
		}
		var d mongoLogDoc
		if err := cur.Decode(&d); err != nil {
			return l.store.wrap("decode "+MongoLogCollection+" document", err)
		}
		r := LogRecord{Name: d.Name, KeyBytes: d.Key, ValueBytes: d.Value, TsMillis: d.TsMillis, WriteMillis: d.WriteMillis}
		if d.SchemaHash != nil {
			r.SchemaHash = *d.SchemaHash
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return l.store.wrap("scan "+MongoLogCollection, err)
	}
	return nil
}

// Close implements Log.
func (l *mongoLog) Close() error { return l.store.Close() }
