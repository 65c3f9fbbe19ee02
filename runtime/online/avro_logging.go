package online

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// LoggingSchemas are the Avro schemas of a join's fetch log (spec §8.1, Chronon's JoinCodec).
type LoggingSchemas struct {
	// Key is record "<sanitize(join name)>_key": the union of the join parts' left key fields.
	Key *AvroSchema
	// Value is record "join_combined_<sanitize(join name)>": every feature field.
	Value *AvroSchema
	// LoggingSchema is {"join_name":…,"key_schema":…,"value_schema":…} as Gson writes it, with the
	// compact Avro JSON of Key and Value as string values. It is published under the hash.
	LoggingSchema string
	// Hash is the first 10 characters of base64(MD5(LoggingSchema)) (HashUtils.md5Base64).
	Hash string
}

// NewLoggingSchemas builds the logging schemas of the join named joinName (metaData.name, e.g.
// "quickstart.training_set.v2"; "team/file.var" sanitizes to the same record names). The field
// order is the caller's: Chronon's value order comes from a hash map and is self-described by the
// logged schema, so any stable order is fine.
func NewLoggingSchemas(joinName string, keyFields, valueFields types.Schema) (*LoggingSchemas, error) {
	clean := SanitizeName(joinName)
	key, err := NewAvroSchema(clean+"_key", keyFields)
	if err != nil {
		return nil, fmt.Errorf("logging key schema of %s: %w", joinName, err)
	}
	value, err := NewAvroSchema("join_combined_"+clean, valueFields)
	if err != nil {
		return nil, fmt.Errorf("logging value schema of %s: %w", joinName, err)
	}
	ls := BuildLoggingSchema(joinName, key.Compact(), value.Compact())
	return &LoggingSchemas{Key: key, Value: value, LoggingSchema: ls, Hash: SchemaHash(ls)}, nil
}

// BuildLoggingSchema is JoinCodec.buildLoggingSchema: a Gson rendering of a three-entry map.
func BuildLoggingSchema(joinName, keySchema, valueSchema string) string {
	var sb strings.Builder
	sb.WriteString(`{"join_name":`)
	writeGsonString(&sb, joinName)
	sb.WriteString(`,"key_schema":`)
	writeGsonString(&sb, keySchema)
	sb.WriteString(`,"value_schema":`)
	writeGsonString(&sb, valueSchema)
	sb.WriteByte('}')
	return sb.String()
}

// SchemaHash is HashUtils.md5Base64: the first 10 characters of the standard base64 of the MD5 of
// the UTF-8 bytes of s.
func SchemaHash(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])[:10]
}

// writeGsonString quotes s as Gson's default (HTML-safe) JsonWriter does: \" \\ \t \b \n \r \f,
// other control characters and < > & = ' U+2028 U+2029 as \u00xx (lower-case hex).
func writeGsonString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\t':
			sb.WriteString(`\t`)
		case '\b':
			sb.WriteString(`\b`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\f':
			sb.WriteString(`\f`)
		case '<', '>', '&', '=', '\'', '\u2028', '\u2029':
			fmt.Fprintf(sb, `\u%04x`, r)
		default:
			if r < 0x20 {
				fmt.Fprintf(sb, `\u%04x`, r)
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
}
