package online

import (
	"fmt"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// GroupByServingInfoKey is the KV key of the serving info in a GroupBy's batch dataset and the
// key_json of its row in the upload table.
const GroupByServingInfoKey = "group_by_serving_info"

// partitionFormat is Chronon's default partition spec (yyyy-MM-dd, daily, UTC).
const partitionFormat = "2006-01-02"

// reservedColumns are Constants.ReservedColumns("ds"): never values of a no-aggregation GroupBy.
var reservedColumns = map[string]bool{"ts": true, "ds": true, "ts_ds": true, "is_before": true, "mutation_ts": true}

// ServingInfo is a GroupByServingInfo with its schemas decoded (Chronon's GroupByServingInfoParsed).
type ServingInfo struct {
	Info *api.GroupByServingInfo
	// Key is record "Key" (keyAvroSchema): the GroupBy's key columns.
	Key *AvroSchema
	// Selected is record "Value" (selectedAvroSchema): aggregation inputs and bucket columns, or the
	// value columns of a GroupBy without aggregations.
	Selected *AvroSchema
	// Input is record "Input" (inputAvroSchema); nil without a streaming source.
	Input *AvroSchema
	// BatchEndTsMillis is midnight UTC of batchEndDate: batch values older than this are ignored and
	// streaming rows are read from here on.
	BatchEndTsMillis int64
}

// BuildServingInfo builds the serving info an upload of gb for endDs writes (GroupByUpload
// .buildServingInfo, spec §7.3). selected is the schema of the GroupBy's selected input (the
// source query's output columns for partition endDs: keys, values, ts, …). streamInput is the
// schema Chronon derives from the streaming source's root table (the table columns the streaming
// query references, or all of them when it has no selects); it is required when gb has a streaming
// source (an events topic, an entities mutationTopic, or a join source whose left has one) and
// ignored otherwise.
func BuildServingInfo(gb *api.GroupBy, selected types.Schema, endDs string, streamInput types.Schema) (*ServingInfo, error) {
	if gb == nil {
		return nil, fmt.Errorf("serving info: nil GroupBy")
	}
	name := gb.GetMetaData().GetName()
	day, err := time.Parse(partitionFormat, endDs)
	if err != nil {
		return nil, fmt.Errorf("serving info for %s: end date %q: want yyyy-MM-dd", name, endDs)
	}
	pick := func(cols []string, what string) (types.Schema, error) {
		out := make(types.Schema, 0, len(cols))
		for _, c := range cols {
			i := selected.Index(c)
			if i < 0 {
				return nil, fmt.Errorf("serving info for %s: %s column %q is not among the selected columns %v", name, what, c, selected.Names())
			}
			out = append(out, selected[i])
		}
		return out, nil
	}
	keyFields, err := pick(gb.KeyColumns, "key")
	if err != nil {
		return nil, err
	}
	var valueFields types.Schema
	if gb.Aggregations != nil {
		valueFields, err = pick(AggregationInputs(gb), "aggregation input")
		if err != nil {
			return nil, err
		}
	} else {
		isKey := map[string]bool{}
		for _, k := range gb.KeyColumns {
			isKey[k] = true
		}
		for _, f := range selected {
			if !isKey[f.Name] && !reservedColumns[f.Name] {
				valueFields = append(valueFields, f)
			}
		}
	}
	key, err := NewAvroSchema("Key", keyFields)
	if err != nil {
		return nil, fmt.Errorf("serving info for %s: key schema: %w", name, err)
	}
	sel, err := NewAvroSchema("Value", valueFields)
	if err != nil {
		return nil, fmt.Errorf("serving info for %s: selected schema: %w", name, err)
	}
	info := api.NewGroupByServingInfo()
	info.GroupBy = gb
	info.KeyAvroSchema = ptr(key.String())
	info.SelectedAvroSchema = ptr(sel.String())
	info.BatchEndDate = ptr(day.AddDate(0, 0, 1).Format(partitionFormat))
	if HasStreamingSource(gb) {
		if streamInput == nil {
			return nil, fmt.Errorf("serving info for %s: the GroupBy has a streaming source but no input schema was given", name)
		}
		in, err := NewAvroSchema("Input", streamInput)
		if err != nil {
			return nil, fmt.Errorf("serving info for %s: input schema: %w", name, err)
		}
		info.InputAvroSchema = ptr(in.String())
	}
	return ParseServingInfo(info)
}

func ptr[T any](v T) *T { return &v }

// AggregationInputs are the distinct aggregation inputs in order: each aggregation's buckets, then
// its input column (GroupByOps.aggregationInputs).
func AggregationInputs(gb *api.GroupBy) []string {
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, a := range gb.Aggregations {
		for _, b := range a.Buckets {
			add(b)
		}
		add(a.GetInputColumn())
	}
	return out
}

// HasStreamingSource reports whether a source of gb has a topic (SourceOps.topic, GroupByOps
// .streamingSource).
func HasStreamingSource(gb *api.GroupBy) bool {
	for _, s := range gb.Sources {
		if sourceTopic(s) != "" {
			return true
		}
	}
	return false
}

func sourceTopic(s *api.Source) string {
	switch {
	case s == nil:
		return ""
	case s.Entities != nil:
		return s.Entities.GetMutationTopic()
	case s.Events != nil:
		return s.Events.GetTopic()
	case s.JoinSource != nil && s.JoinSource.Join != nil:
		return sourceTopic(s.JoinSource.Join.Left)
	}
	return ""
}

// ParseServingInfo decodes the schemas of info and computes BatchEndTsMillis.
func ParseServingInfo(info *api.GroupByServingInfo) (*ServingInfo, error) {
	if info == nil {
		return nil, fmt.Errorf("serving info: nil")
	}
	name := info.GetGroupBy().GetMetaData().GetName()
	s := &ServingInfo{Info: info}
	day, err := time.Parse(partitionFormat, info.GetBatchEndDate())
	if err != nil {
		return nil, fmt.Errorf("serving info for %s: batchEndDate %q: want yyyy-MM-dd", name, info.GetBatchEndDate())
	}
	s.BatchEndTsMillis = day.UnixMilli()
	if !info.IsSetKeyAvroSchema() {
		return nil, fmt.Errorf("serving info for %s: keyAvroSchema is missing", name)
	}
	if s.Key, err = ParseAvroSchema(info.GetKeyAvroSchema()); err != nil {
		return nil, fmt.Errorf("serving info for %s: keyAvroSchema: %w", name, err)
	}
	if info.IsSetSelectedAvroSchema() {
		if s.Selected, err = ParseAvroSchema(info.GetSelectedAvroSchema()); err != nil {
			return nil, fmt.Errorf("serving info for %s: selectedAvroSchema: %w", name, err)
		}
	}
	if info.IsSetInputAvroSchema() {
		if s.Input, err = ParseAvroSchema(info.GetInputAvroSchema()); err != nil {
			return nil, fmt.Errorf("serving info for %s: inputAvroSchema: %w", name, err)
		}
	}
	return s, nil
}

// MarshalCompact is the serving info as Chronon uploads it (ThriftJsonCodec.toJsonStr: compact
// Thrift JSON); o carries the map key order of the embedded GroupBy conf (nil sorts keys).
func (s *ServingInfo) MarshalCompact(o *conf.Order) ([]byte, error) {
	return conf.MarshalCompact(s.Info, o)
}

// UnmarshalServingInfo reads the compact JSON written by MarshalCompact (or by Chronon) and parses it.
func UnmarshalServingInfo(data []byte) (*ServingInfo, *conf.Order, error) {
	info := api.NewGroupByServingInfo()
	o, err := conf.Unmarshal(data, info)
	if err != nil {
		return nil, nil, fmt.Errorf("serving info: %w", err)
	}
	s, err := ParseServingInfo(info)
	return s, o, err
}

// SelectedSchema is the selected schema with "_REPEATED_NAME_" suffixes removed
// (selectedChrononSchema, cleanName = true); nil without a selected schema.
func (s *ServingInfo) SelectedSchema() types.Schema {
	if s.Selected == nil {
		return nil
	}
	return s.Selected.CleanFields()
}

// KeySchema is the key schema's fields (keyChrononSchema).
func (s *ServingInfo) KeySchema() types.Schema { return s.Key.Fields() }

// StreamValueSchema is the schema of the streaming rows of an events GroupBy with aggregations
// (GroupByServingInfoParsed.valueAvroSchema): record "<sanitize(name)>_INPUT_COLS" with the
// aggregation inputs, in AggregationInputs order, that the selected schema has.
func (s *ServingInfo) StreamValueSchema() (*AvroSchema, error) {
	return s.streamSchema("_INPUT_COLS", nil)
}

// MutationValueSchema is the schema of the streaming rows of an entities GroupBy
// (mutationValueAvroSchema): StreamValueSchema's fields plus ts (long) and is_before (boolean),
// record "<sanitize(name)>_MUTATION_COLS".
func (s *ServingInfo) MutationValueSchema() (*AvroSchema, error) {
	return s.streamSchema("_MUTATION_COLS", types.Schema{
		{Name: "ts", Type: types.LongType}, {Name: "is_before", Type: types.BooleanType}})
}

func (s *ServingInfo) streamSchema(suffix string, extra types.Schema) (*AvroSchema, error) {
	gb := s.Info.GetGroupBy()
	sel := s.SelectedSchema()
	var fields types.Schema
	for _, in := range AggregationInputs(gb) {
		if i := sel.Index(in); i >= 0 {
			fields = append(fields, sel[i])
		}
	}
	fields = append(fields, extra...)
	return NewAvroSchema(SanitizeName(gb.GetMetaData().GetName())+suffix, fields)
}
