package kv

import "context"

// DropMongoDatabaseForTest removes a test database from a real server.
func DropMongoDatabaseForTest(ctx context.Context, s Store) error {
	return s.(*mongoStore).db.Drop(ctx)
}

// CompactForTest compacts the embedded store fully (steady-state reads).
func CompactForTest(s Store) error {
	return s.(*embedded).db.Compact(context.Background(), []byte{0}, []byte{0xff}, true)
}
