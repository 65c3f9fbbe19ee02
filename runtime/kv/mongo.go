package kv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoDB layout, as Chronon's quickstart MongoKvStore and Spark2MongoLoader:
// database "chronon", one collection per dataset, documents
// {keyBytes: binary, valueBytes: binary, ts: long}, index (keyBytes, ts).
// Unlike the quickstart store, reads honour ts and afterTs (spec §7.4).
const (
	MongoDefaultDatabase  = "chronon"
	mongoDefaultTimeout   = 10 * time.Second
	mongoDefaultBatchSize = 1000
	fKey                  = "keyBytes"
	fValue                = "valueBytes"
	fTs                   = "ts"
	loadInfix             = "__chronon_load_"
)

// MongoOptions are the MongoDB-specific settings of OpenMongo.
type MongoOptions struct {
	Options
	// Database overrides "chronon" (tests use one database each).
	Database string
	// BatchSize is the number of documents per insert round trip
	// (default 1000; FerretDB in tests needs ≤ 40).
	BatchSize int
}

type mongoStore struct {
	client    *mongo.Client
	db        *mongo.Database
	dbName    string
	where     string // redacted URI for error messages
	secret    string // password, scrubbed from driver errors
	timeout   time.Duration
	batchSize int
	readOnly  bool
	known     sync.Map // dataset -> struct{}: collections seen to exist
	closed    atomic.Bool
	// nonAtomicSwap is set once the server refused renameCollection's
	// dropTarget (FerretDB): bulk loads then drop and rename, and readers can
	// briefly see an empty dataset.
	nonAtomicSwap atomic.Bool
}

type mongoDoc struct {
	ID    bson.ObjectID `bson:"_id,omitempty"`
	Key   []byte        `bson:"keyBytes"`
	Value []byte        `bson:"valueBytes"`
	Ts    int64         `bson:"ts"`
}

// OpenMongo connects to the MongoDB at uri with the default options.
func OpenMongo(ctx context.Context, uri string, opts Options) (Store, error) {
	return OpenMongoWith(ctx, uri, MongoOptions{Options: opts})
}

// OpenMongoWith connects to the MongoDB at uri and checks it answers.
func OpenMongoWith(ctx context.Context, uri string, mo MongoOptions) (Store, error) {
	s := &mongoStore{
		dbName:    mo.Database,
		where:     RedactURI(uri),
		timeout:   mo.Timeout,
		batchSize: mo.BatchSize,
		readOnly:  mo.ReadOnly,
	}
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		s.secret, _ = u.User.Password()
	}
	if s.dbName == "" {
		s.dbName = MongoDefaultDatabase
	}
	if s.timeout <= 0 {
		s.timeout = mongoDefaultTimeout
	}
	if s.batchSize <= 0 {
		s.batchSize = mongoDefaultBatchSize
	}
	co := options.Client().ApplyURI(uri).
		SetTimeout(s.timeout).
		SetServerSelectionTimeout(s.timeout).
		SetConnectTimeout(s.timeout)
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, s.wrap("connect", err)
	}
	s.client = client
	s.db = client.Database(s.dbName)
	cctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := client.Ping(cctx, nil); err != nil {
		dctx, dcancel := context.WithTimeout(context.Background(), s.timeout)
		defer dcancel()
		_ = client.Disconnect(dctx)
		return nil, s.wrap("ping", err)
	}
	return s, nil
}

func (s *mongoStore) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// wrap names the server without credentials; driver messages that echo the
// password lose it (and their wrapped type, which is the lesser evil).
func (s *mongoStore) wrap(op string, err error) error {
	if s.secret != "" && strings.Contains(err.Error(), s.secret) {
		return fmt.Errorf("kv: mongo %s: %s: %s", s.where, op, strings.ReplaceAll(err.Error(), s.secret, "xxxxx"))
	}
	return fmt.Errorf("kv: mongo %s: %s: %w", s.where, op, err)
}

func (s *mongoStore) check(ctx context.Context, write bool) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if write && s.readOnly {
		return ErrReadOnly
	}
	return ctx.Err()
}

func (s *mongoStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return s.wrap("disconnect", err)
	}
	return nil
}

func (s *mongoStore) exists(ctx context.Context, dataset string) (bool, error) {
	if _, ok := s.known.Load(dataset); ok {
		return true, nil
	}
	cctx, cancel := s.opCtx(ctx)
	defer cancel()
	names, err := s.db.ListCollectionNames(cctx, bson.D{{Key: "name", Value: dataset}})
	if err != nil {
		return false, s.wrap("list collections", err)
	}
	if len(names) == 0 {
		return false, nil
	}
	s.known.Store(dataset, struct{}{})
	return true, nil
}

func (s *mongoStore) Create(ctx context.Context, dataset string) error {
	if err := s.check(ctx, true); err != nil {
		return err
	}
	if err := validDataset(dataset); err != nil {
		return err
	}
	ok, err := s.exists(ctx, dataset)
	if err != nil || ok {
		return err
	}
	if err := s.createCollection(ctx, dataset); err != nil {
		return err
	}
	s.known.Store(dataset, struct{}{})
	return nil
}

func (s *mongoStore) createCollection(ctx context.Context, name string) error {
	cctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.db.CreateCollection(cctx, name); err != nil && !hasCode(err, 48 /* NamespaceExists */) {
		return s.wrap("create "+name, err)
	}
	return s.createIndex(ctx, name)
}

func (s *mongoStore) createIndex(ctx context.Context, name string) error {
	cctx, cancel := s.opCtx(ctx)
	defer cancel()
	_, err := s.db.Collection(name).Indexes().CreateOne(cctx, mongo.IndexModel{
		Keys: bson.D{{Key: fKey, Value: 1}, {Key: fTs, Value: 1}},
	})
	if err != nil {
		return s.wrap("create index on "+name, err)
	}
	return nil
}

func hasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}

func (s *mongoStore) MultiGet(ctx context.Context, reqs []GetRequest) ([]GetResponse, error) {
	if err := s.check(ctx, false); err != nil {
		return nil, err
	}
	out := make([]GetResponse, len(reqs))
	byDataset := map[string][]int{}
	for i, r := range reqs {
		byDataset[r.Dataset] = append(byDataset[r.Dataset], i)
	}
	// One query per dataset, datasets in parallel: a join fetch touches
	// several GroupBys' datasets.
	var wg sync.WaitGroup
	for ds, idx := range byDataset {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.getDataset(ctx, ds, reqs, idx, out)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *mongoStore) getDataset(ctx context.Context, ds string, reqs []GetRequest, idx []int, out []GetResponse) {
	fail := func(err error) {
		for _, i := range idx {
			out[i].Err = err
		}
	}
	ok, err := s.exists(ctx, ds)
	if err != nil {
		fail(err)
		return
	}
	if !ok {
		fail(fmt.Errorf("%w: %q", ErrUnknownDataset, ds))
		return
	}
	keys := make([][]byte, 0, len(idx))
	seen := map[string]bool{}
	minAfter, allAfter := int64(0), true
	for n, i := range idx {
		r := reqs[i]
		if !seen[string(r.Key)] {
			seen[string(r.Key)] = true
			keys = append(keys, r.Key)
		}
		if r.AfterTsMillis == nil {
			allAfter = false
		} else if n == 0 || *r.AfterTsMillis < minAfter {
			minAfter = *r.AfterTsMillis
		}
	}
	filter := bson.D{{Key: fKey, Value: bson.D{{Key: "$in", Value: keys}}}}
	if allAfter {
		filter = append(filter, bson.E{Key: fTs, Value: bson.D{{Key: "$gte", Value: minAfter}}})
	}
	var docs []mongoDoc
	for attempt := 1; ; attempt++ {
		docs, err = s.find(ctx, ds, filter)
		// A bulk load's rename drops the collection under an open cursor;
		// a fresh query sees the new contents whole.
		if err == nil || attempt == 3 || !cursorKilled(err) {
			break
		}
	}
	if err != nil {
		fail(s.wrap("find in "+ds, err))
		return
	}
	// Sort client side: versions by ts, and among equal ts by insertion
	// (_id), so that the last put of a (key, ts) wins as in the embedded
	// store, whose puts overwrite.
	sort.Slice(docs, func(a, b int) bool {
		if docs[a].Ts != docs[b].Ts {
			return docs[a].Ts < docs[b].Ts
		}
		return bytes.Compare(docs[a].ID[:], docs[b].ID[:]) < 0
	})
	versions := map[string][]TimedValue{}
	for _, d := range docs {
		k := string(d.Key)
		vs := versions[k]
		if n := len(vs); n > 0 && vs[n-1].TsMillis == d.Ts {
			vs = vs[:n-1]
		}
		v := d.Value
		if v == nil {
			v = []byte{}
		}
		versions[k] = append(vs, TimedValue{Bytes: v, TsMillis: d.Ts})
	}
	for _, i := range idx {
		r := reqs[i]
		vs := versions[string(r.Key)]
		if r.AfterTsMillis != nil {
			j := sort.Search(len(vs), func(j int) bool { return vs[j].TsMillis >= *r.AfterTsMillis })
			vs = vs[j:]
		}
		if len(vs) > 0 {
			out[i].Values = append([]TimedValue(nil), vs...)
		}
	}
}

func (s *mongoStore) find(ctx context.Context, ds string, filter bson.D) ([]mongoDoc, error) {
	cctx, cancel := s.opCtx(ctx)
	defer cancel()
	// A large first batch: one round trip per dataset for any usual fetch
	// (the server still caps a batch at 16 MiB).
	cur, err := s.db.Collection(ds).Find(cctx, filter, options.Find().SetBatchSize(100_000))
	if err != nil {
		return nil, err
	}
	var docs []mongoDoc
	if err := cur.All(cctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

func cursorKilled(err error) bool {
	for _, code := range []int{43 /* CursorNotFound */, 175 /* QueryPlanKilled */, 237 /* CursorKilled */, 96 /* OperationFailed */} {
		if hasCode(err, code) {
			return true
		}
	}
	return false
}

func (s *mongoStore) MultiPut(ctx context.Context, reqs []PutRequest) error {
	if err := s.check(ctx, true); err != nil {
		return err
	}
	byDataset := map[string][]any{}
	var order []string
	for _, r := range reqs {
		if _, ok := byDataset[r.Dataset]; !ok {
			order = append(order, r.Dataset)
		}
		byDataset[r.Dataset] = append(byDataset[r.Dataset], mongoDoc{Key: r.Key, Value: nonNil(r.Value), Ts: r.TsMillis})
	}
	// Check every dataset first so a bad name writes nothing.
	for _, ds := range order {
		ok, err := s.exists(ctx, ds)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownDataset, ds)
		}
	}
	for _, ds := range order {
		if err := s.insert(ctx, ds, byDataset[ds]); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *mongoStore) insert(ctx context.Context, coll string, docs []any) error {
	for len(docs) > 0 {
		n := min(len(docs), s.batchSize)
		cctx, cancel := s.opCtx(ctx)
		_, err := s.db.Collection(coll).InsertMany(cctx, docs[:n], options.InsertMany().SetOrdered(false))
		cancel()
		if err != nil {
			return s.wrap("insert into "+coll, err)
		}
		docs = docs[n:]
	}
	return nil
}

// BulkLoad fills a fresh collection and renames it over the dataset, as
// Chronon's loader overwrites the collection.
func (s *mongoStore) BulkLoad(ctx context.Context, dataset string, rows iter.Seq2[Row, error]) (err error) {
	if err := s.check(ctx, true); err != nil {
		return err
	}
	if err := validDataset(dataset); err != nil {
		return err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := dataset + loadInfix + hex.EncodeToString(rnd[:])
	cctx, cancel := s.opCtx(ctx)
	err = s.db.CreateCollection(cctx, tmp)
	cancel()
	if err != nil {
		return s.wrap("create "+tmp, err)
	}
	defer func() {
		if err != nil {
			// Fresh context: ctx may be what failed.
			dctx, dcancel := context.WithTimeout(context.Background(), s.timeout)
			_ = s.db.Collection(tmp).Drop(dctx)
			dcancel()
		}
	}()
	buf := make([]any, 0, s.batchSize)
	for r, rerr := range rows {
		if rerr != nil {
			return fmt.Errorf("kv: bulk load %s: reading rows: %w", dataset, rerr)
		}
		buf = append(buf, mongoDoc{Key: r.Key, Value: nonNil(r.Value), Ts: r.TsMillis})
		if len(buf) == s.batchSize {
			if err := s.insert(ctx, tmp, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if err := s.insert(ctx, tmp, buf); err != nil {
		return err
	}
	// Index after the data: building once is cheaper than maintaining it.
	if err := s.createIndex(ctx, tmp); err != nil {
		return err
	}
	if err := s.swap(ctx, tmp, dataset); err != nil {
		return err
	}
	s.known.Store(dataset, struct{}{})
	return nil
}

func (s *mongoStore) swap(ctx context.Context, tmp, dataset string) error {
	rename := func(dropTarget bool) error {
		cmd := bson.D{
			{Key: "renameCollection", Value: s.dbName + "." + tmp},
			{Key: "to", Value: s.dbName + "." + dataset},
		}
		if dropTarget {
			cmd = append(cmd, bson.E{Key: "dropTarget", Value: true})
		}
		cctx, cancel := s.opCtx(ctx)
		defer cancel()
		return s.client.Database("admin").RunCommand(cctx, cmd).Err()
	}
	if !s.nonAtomicSwap.Load() {
		err := rename(true)
		if err == nil {
			return nil
		}
		if !hasCode(err, 238 /* NotImplemented */) {
			return s.wrap("rename "+tmp+" to "+dataset, err)
		}
		s.nonAtomicSwap.Store(true)
	}
	// The server cannot replace atomically (FerretDB): drop, then rename.
	cctx, cancel := s.opCtx(ctx)
	err := s.db.Collection(dataset).Drop(cctx)
	cancel()
	if err != nil {
		return s.wrap("drop "+dataset, err)
	}
	if err := rename(false); err != nil {
		return s.wrap("rename "+tmp+" to "+dataset, err)
	}
	return nil
}
