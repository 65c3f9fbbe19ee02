package online

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Metadata datasets (MetadataEndPoint.scala, spec §7.5).
const (
	// ConfByKeyDataset maps a conf key (last three path segments, e.g. joins/quickstart/training_set.v2)
	// to the conf's compact JSON (ConfByKeyEndPointName).
	ConfByKeyDataset = "ZIPLINE_METADATA"
	// EntityByTeamDataset (NameByTeamEndPointName) maps "<kind>/<team>" (e.g. joins/quickstart) to the comma-joined base64 of
	// that team's conf keys.
	EntityByTeamDataset = "CHRONON_ENTITY_BY_TEAM"
	// DefaultMetadataBatchSize is the default --batch-size of metadata-upload.
	DefaultMetadataBatchSize = 50
)

// MetadataEntry is one conf found by WalkMetadata.
type MetadataEntry struct {
	Path string // file
	Kind string // joins, group_bys or staging_queries
	Key  string // last three path segments
	Team string // owning team: customJson team_override, else metaData.team
	JSON []byte // compact Thrift JSON of the conf
}

// ConfKey is MetadataDirWalker's key of a conf file: its last three path segments.
func ConfKey(path string) string {
	segs := strings.Split(filepath.ToSlash(path), "/")
	if len(segs) > 3 {
		segs = segs[len(segs)-3:]
	}
	return strings.Join(segs, "/")
}

// confKindOf picks the conf class from the path as Chronon does (first match of joins/,
// group_bys/, staging_queries/ anywhere in it).
func confKindOf(path string) (string, any) {
	p := filepath.ToSlash(path)
	switch {
	case strings.Contains(p, "joins/"):
		return "joins", api.NewJoin()
	case strings.Contains(p, "group_bys/"):
		return "group_bys", api.NewGroupBy()
	case strings.Contains(p, "staging_queries/"):
		return "staging_queries", api.NewStagingQuery()
	}
	return "", nil
}

// WalkMetadata reads every conf file at root (a file or a directory, walked recursively in lexical
// order). Files that are not JSON with a metaData.name, sit under none of joins/ group_bys/
// staging_queries/, or do not parse as their class are skipped with a line on log (Chronon logs
// and skips them too).
func WalkMetadata(root string, log io.Writer) ([]MetadataEntry, error) {
	if log == nil {
		log = io.Discard
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("metadata-upload: %w", err)
	}
	var files []string
	if !st.IsDir() {
		files = []string{root}
	} else {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("metadata-upload: %w", err)
		}
	}
	var out []MetadataEntry
	for _, f := range files {
		e, why := readMetadataEntry(f)
		if why != "" {
			fmt.Fprintf(log, "metadata-upload: skipping %s: %s\n", f, why)
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func readMetadataEntry(path string) (MetadataEntry, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return MetadataEntry{}, err.Error()
	}
	var probe struct {
		MetaData *struct {
			Name *string `json:"name"`
		} `json:"metaData"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return MetadataEntry{}, "not a JSON conf"
	}
	if probe.MetaData == nil || probe.MetaData.Name == nil {
		return MetadataEntry{}, "no metaData.name"
	}
	kind, v := confKindOf(path)
	if v == nil {
		return MetadataEntry{}, "not under joins/, group_bys/ or staging_queries/"
	}
	order, err := conf.Unmarshal(data, v)
	if err != nil {
		return MetadataEntry{}, err.Error()
	}
	js, err := conf.MarshalCompact(v, order)
	if err != nil {
		return MetadataEntry{}, err.Error()
	}
	var md *api.MetaData
	switch c := v.(type) {
	case *api.Join:
		md = c.MetaData
	case *api.GroupBy:
		md = c.MetaData
	case *api.StagingQuery:
		md = c.MetaData
	}
	return MetadataEntry{Path: path, Kind: kind, Key: ConfKey(path), Team: owningTeam(md), JSON: js}, ""
}

// owningTeam is MetadataOps.owningTeam: customJson's team_override, else metaData.team.
func owningTeam(md *api.MetaData) string {
	if md == nil {
		return ""
	}
	if cj := md.GetCustomJson(); cj != "" {
		var m map[string]any
		if json.Unmarshal([]byte(cj), &m) == nil {
			if t, ok := m["team_override"].(string); ok {
				return t
			}
		}
	}
	return md.GetTeam()
}

// MetadataPuts are the writes of a metadata upload of entries at tsMillis: one ZIPLINE_METADATA
// put per conf key (the last file wins when two share a key) and one CHRONON_ENTITY_BY_TEAM put per
// "<kind>/<team>" whose value is the comma-joined base64 of its conf keys, in walk order
// (StringArrayConverter.stringsToBytes).
func MetadataPuts(entries []MetadataEntry, tsMillis int64) []kv.PutRequest {
	var puts []kv.PutRequest
	confIdx := map[string]int{}
	teamKeys := map[string][]string{}
	var teams []string
	for _, e := range entries {
		p := kv.PutRequest{Dataset: ConfByKeyDataset, Key: []byte(e.Key), Value: e.JSON, TsMillis: tsMillis}
		if i, ok := confIdx[e.Key]; ok {
			puts[i] = p
		} else {
			confIdx[e.Key] = len(puts)
			puts = append(puts, p)
		}
		t := e.Kind + "/" + e.Team
		if _, ok := teamKeys[t]; !ok {
			teams = append(teams, t)
		}
		teamKeys[t] = append(teamKeys[t], e.Key)
	}
	sort.Strings(teams)
	for _, t := range teams {
		enc := make([]string, len(teamKeys[t]))
		for i, k := range teamKeys[t] {
			enc[i] = base64.StdEncoding.EncodeToString([]byte(k))
		}
		puts = append(puts, kv.PutRequest{Dataset: EntityByTeamDataset, Key: []byte(t), Value: []byte(strings.Join(enc, ",")), TsMillis: tsMillis})
	}
	return puts
}

// DecodeTeamEntities is the inverse of the CHRONON_ENTITY_BY_TEAM value encoding.
func DecodeTeamEntities(v []byte) ([]string, error) {
	if len(v) == 0 {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(string(v), ",") {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s: entity list: %w", EntityByTeamDataset, err)
		}
		out = append(out, string(b))
	}
	return out, nil
}

// MetadataUploadOptions configure UploadMetadata.
type MetadataUploadOptions struct {
	BatchSize int              // puts per MultiPut (default 50)
	Now       func() time.Time // version ts source (default time.Now)
	Log       io.Writer
}

// UploadMetadata walks root and writes its confs into ZIPLINE_METADATA and CHRONON_ENTITY_BY_TEAM
// (spec §7.5), creating the datasets if needed. It returns the number of confs uploaded.
func UploadMetadata(ctx context.Context, store kv.Store, root string, opts MetadataUploadOptions) (int, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultMetadataBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	entries, err := WalkMetadata(root, opts.Log)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, fmt.Errorf("metadata-upload: no conf with a metaData.name under %s", root)
	}
	for _, ds := range []string{ConfByKeyDataset, EntityByTeamDataset} {
		if err := store.Create(ctx, ds); err != nil {
			return 0, fmt.Errorf("metadata-upload: creating %s: %w", ds, err)
		}
	}
	puts := MetadataPuts(entries, opts.Now().UnixMilli())
	for i := 0; i < len(puts); i += opts.BatchSize {
		if err := store.MultiPut(ctx, puts[i:min(i+opts.BatchSize, len(puts))]); err != nil {
			return 0, fmt.Errorf("metadata-upload: %w", err)
		}
	}
	fmt.Fprintf(opts.Log, "metadata-upload: %d confs into %s, %d puts in batches of %d\n", len(entries), ConfByKeyDataset, len(puts), opts.BatchSize)
	return len(entries), nil
}
