package online

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

func fieldsOf(kvs ...string) *api.TDataType {
	t := &api.TDataType{Kind: api.DataKind_STRUCT}
	for i := 0; i+1 < len(kvs); i += 2 {
		kind := api.DataKind_STRING
		if kvs[i+1] == "double" {
			kind = api.DataKind_DOUBLE
		}
		t.Params = append(t.Params, &api.DataField{Name: ptr(kvs[i]), DataType: &api.TDataType{Kind: kind}})
	}
	return t
}

// addExternalJoin stores a copy of training_set.v2 with external parts: contextual (device), a
// "score" source keyed by user_id (prefix p, mapped from the left's buyer column), a source nobody
// registered, and a derivation over the score.
func addExternalJoin(t *testing.T, s kv.Store, name string) {
	t.Helper()
	ctx := context.Background()
	resp, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: MetadataDataset, Key: []byte(JoinMetadataKey("quickstart/training_set.v2"))}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := resp[0].Latest()
	j := api.NewJoin()
	if _, err := conf.Unmarshal(v.Bytes, j); err != nil {
		t.Fatal(err)
	}
	j.MetaData.Name = ptr(strings.Replace(name, "/", ".", 1))
	j.MetaData.SamplePercent = fptr(100)
	j.OnlineExternalParts = []*api.ExternalPart{
		{Source: &api.ExternalSource{Metadata: &api.MetaData{Name: ptr("contextual")}, KeySchema: fieldsOf("device", "string"), ValueSchema: fieldsOf("device", "string")}},
		{Source: &api.ExternalSource{Metadata: &api.MetaData{Name: ptr("score")}, KeySchema: fieldsOf("user_id", "string"), ValueSchema: fieldsOf("score", "double")},
			KeyMapping: map[string]string{"buyer": "user_id"}, Prefix: ptr("p")},
		{Source: &api.ExternalSource{Metadata: &api.MetaData{Name: ptr("nobody")}, KeySchema: fieldsOf("user_id", "string"), ValueSchema: fieldsOf("x", "string")}},
	}
	j.Derivations = []*api.Derivation{{Name: ptr("*"), Expression: ptr("*")}, {Name: ptr("score2"), Expression: ptr("ext_p_score_score * 2")}}
	b, err := conf.MarshalCompact(j, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MultiPut(ctx, []kv.PutRequest{{Dataset: MetadataDataset, Key: []byte(JoinMetadataKey(name)), Value: b, TsMillis: 2}}); err != nil {
		t.Fatal(err)
	}
}

// TestFetchJoinExternalParts: external parts (spec §7.6) are fetched from registered handlers once
// per source for all requests, prefixed ext_[<prefix>_]<source>_, cast to their declared types,
// visible to derivations and logged; failures and missing keys are that part's exception only.
func TestFetchJoinExternalParts(t *testing.T) {
	fx := newFetchFixture(t, 6, 21)
	addExternalJoin(t, fx.store, "quickstart/external.v1")
	log := &kv.MemLog{}
	l := NewFetchLogger(log, FetchLoggerOptions{})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	calls := 0
	if err := f.RegisterExternal("score", ExternalHandlerFunc(func(_ context.Context, reqs []Request) ([]Response, error) {
		calls++
		out := make([]Response, len(reqs))
		for i, r := range reqs {
			u := fmt.Sprint(r.Keys["user_id"])
			if u == "5" {
				out[i] = Response{Request: r, Err: errors.New("score service: user 5 is unknown")}
				continue
			}
			out[i] = Response{Request: r, Values: map[string]any{"score": "1.5"}} // a string: cast to double
		}
		return out, nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := f.RegisterExternal("score", ExternalHandlerFunc(contextualHandler)); err == nil {
		t.Error("registering a source twice: want an error")
	}
	if err := f.RegisterExternal(ContextualSource, ExternalHandlerFunc(contextualHandler)); err == nil {
		t.Error("registering contextual: want an error (built in)")
	}
	resp := fetchJoins(t, f,
		Request{Name: "quickstart/external.v1", Keys: map[string]any{"user_id": "1", "buyer": "2", "device": "ios"}},
		Request{Name: "quickstart/external.v1", Keys: map[string]any{"user_id": "3", "buyer": "5"}},
		Request{Name: "quickstart/external.v1", Keys: map[string]any{"user_id": "4"}},
	)
	if calls != 1 {
		t.Errorf("score handler called %d times, want once for all requests", calls)
	}
	v := resp[0].Values
	if v["ext_contextual_device"] != "ios" || v["ext_p_score_score"] != 1.5 || v["score2"] != 3.0 {
		t.Errorf("request 0: contextual %v, score %v, score2 %v", v["ext_contextual_device"], v["ext_p_score_score"], v["score2"])
	}
	if ex, _ := v["ext_nobody_exception"].(string); !strings.Contains(ex, "no handler is registered for external source nobody") {
		t.Errorf("unregistered source: exception %q", ex)
	}
	if _, ok := v["quickstart_purchases_v1_price_count_7d"]; !ok {
		t.Errorf("stored features missing next to external ones: %v", v)
	}
	// Missing contextual key: a null value; failing handler: that part's exception only.
	v = resp[1].Values
	if x, ok := v["ext_contextual_device"]; !ok || x != nil {
		t.Errorf("missing contextual key: want a null value, got %v (present %v)", x, ok)
	}
	if ex, _ := v["ext_p_score_exception"].(string); !strings.Contains(ex, "user 5 is unknown") {
		t.Errorf("failing handler: exception %q", ex)
	}
	// Missing key of a non-contextual source: Chronon's KeyMissingException message.
	if ex, _ := resp[2].Values["ext_p_score_exception"].(string); !strings.Contains(ex, "Missing keys List(buyer) required by score") {
		t.Errorf("missing key: exception %q", ex)
	}
	closeLogger(t, l)
	// The logged schema carries the external keys and values (spec §8.1).
	var schema string
	for _, r := range scanLog(t, log, kv.SchemaPublishEvent) {
		schema = string(r.ValueBytes)
	}
	for _, want := range []string{"device", "buyer", "ext_p_score_score", "ext_contextual_device", "score2"} {
		if !strings.Contains(schema, want) {
			t.Errorf("logging schema lacks %s: %s", want, schema)
		}
	}
}
