package warehouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/chronon-go/chronon/runtime/types"
)

// MetaFile is the file beside a table's data that holds what Hive's metastore would: schema,
// partition columns and table properties.
const MetaFile = "_chronon.json"

// Table property keys Chronon sets on every table it writes (spec §2.3).
const (
	PropGenerated          = "chronon_generated"
	PropTableType          = "chronon_table_type"
	PropSemanticHash       = "semantic_hash"
	PropSemanticHashOption = "semantic_hash_options"
)

// Meta is the content of _chronon.json.
type Meta struct {
	// Columns are the data columns stored in the files (partition columns excluded).
	Columns []MetaColumn `json:"columns"`
	// PartitionColumns name the directory levels, outermost first; empty for an unpartitioned table.
	PartitionColumns []string          `json:"partition_columns"`
	Properties       map[string]string `json:"properties,omitempty"`
	// MixedSchemas is set once partitions were written with different column sets (a column was
	// added or left out): readers must then match columns by name across files.
	MixedSchemas bool `json:"mixed_schemas,omitempty"`
	// Derived marks metadata read from the data itself (no _chronon.json): files may differ.
	Derived bool `json:"-"`
}

// MetaColumn is a column and its type in Spark spelling (bigint, array<bigint>, ...).
type MetaColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Schema decodes the data columns.
func (m *Meta) Schema() (types.Schema, error) {
	s := make(types.Schema, len(m.Columns))
	for i, c := range m.Columns {
		t, err := types.ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		s[i] = types.Field{Name: c.Name, Type: t}
	}
	return s, nil
}

func metaColumns(s types.Schema) []MetaColumn {
	out := make([]MetaColumn, len(s))
	for i, f := range s {
		out[i] = MetaColumn{Name: f.Name, Type: f.Type.String()}
	}
	return out
}

// readMeta returns the table's metadata, or nil (no error) when the table has no _chronon.json
// (a table copied in from another tool).
func readMeta(dir string) (*Meta, error) {
	data, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w (delete the file to re-derive the schema from the data)", filepath.Join(dir, MetaFile), err)
	}
	return &m, nil
}

// writeMeta replaces _chronon.json atomically: temp file, fsync, rename.
func writeMeta(dir string, m *Meta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".meta-*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, MetaFile))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Properties returns the table properties (never nil).
func (t *Table) Properties() (map[string]string, error) {
	m, err := t.Meta()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	maps.Copy(out, m.Properties)
	return out, nil
}

// SetProperties merges props into the table's properties (like ALTER TABLE SET TBLPROPERTIES).
func (t *Table) SetProperties(props map[string]string) error {
	m, err := t.Meta()
	if err != nil {
		return err
	}
	if m.Properties == nil {
		m.Properties = map[string]string{}
	}
	maps.Copy(m.Properties, props)
	return writeMeta(t.Dir, m)
}
