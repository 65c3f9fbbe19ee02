package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	sa "github.com/chronon-go/chronon/starlark_api"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// run compiles the files and returns the bytes to write by path (relative to the output root).
// Problems are collected in c.problems; when there are any, nothing must be written.
func (c *compiler) run(files []string) (map[string][]byte, *Result) {
	res := &Result{}
	var main []*item
	for _, f := range files {
		items, err := c.extract(f)
		if err != nil {
			c.addLoadError(err)
			continue
		}
		main = append(main, items...)
	}
	if len(c.problems) > 0 {
		return nil, res
	}
	inMain := map[string]bool{}
	for _, it := range main {
		key := it.kind.folder() + ":" + it.name
		if inMain[key] {
			c.fail("%s%s %s is defined twice", it.where(), it.kind.className(), it.name)
		}
		inMain[key] = true
	}
	// The validator's view of joins: what production/ holds, updated with the joins compiled now, so
	// that the result does not depend on the order of compile runs (spec §14.1).
	view := map[string]*api.Join{}
	for n, j := range c.oldJoins {
		view[n] = j
	}
	for _, it := range main {
		if j, ok := it.obj.(*api.Join); ok {
			view[it.name] = j
		}
	}

	writes := map[string][]byte{}
	var extraGroupBys []*item
	extraSeen := map[string]bool{}
	var dependentJoins, dependentGroupBys []string
	for _, it := range main {
		c.teamDefaults(it)
		c.fillTemplates(it)
		if !c.write(it, view, writes, res, c.opts.ForceOverwrite) {
			continue
		}
		if j, ok := it.obj.(*api.Join); ok {
			var notOnline []string
			for _, jp := range j.JoinParts {
				gb := jp.GroupBy
				name := metaName(gb.MetaData)
				online := gb.MetaData.Online != nil && *gb.MetaData.Online
				if online || gb.BackfillStartDate != nil {
					if !inMain["group_bys:"+name] && !extraSeen[name] {
						extraSeen[name] = true
						extraGroupBys = append(extraGroupBys, &item{kind: kindGroupBy, name: name, obj: conf.Clone(gb, c.order), pos: it.pos, force: true})
					}
				}
				if !online {
					notOnline = append(notOnline, name)
				}
			}
			if j.MetaData.Online != nil && *j.MetaData.Online && len(notOnline) > 0 {
				c.fail("%sjoin %s is online, so every GroupBy it uses must be online too: pass online=True to %s", it.where(), it.name, strings.Join(notOnline, ", "))
			}
		}
		c.deprecationWarnings(it)
		for _, d := range c.downstream(it, writes) {
			if inMain[d] {
				continue
			}
			folder, name, _ := strings.Cut(d, ":")
			if folder == "joins" {
				dependentJoins = append(dependentJoins, name)
			} else {
				dependentGroupBys = append(dependentGroupBys, name)
			}
		}
	}
	dependentJoins, dependentGroupBys = uniqSorted(dependentJoins), uniqSorted(dependentGroupBys)
	if len(dependentJoins)+len(dependentGroupBys) > 0 && !c.opts.ForceOverwrite {
		c.fail("confs in %s depend on what you compiled and must be recompiled with it: %s; compile their files too or pass --force-overwrite",
			c.opts.OutputRoot, strings.Join(append(append([]string{}, dependentJoins...), dependentGroupBys...), ", "))
		return writes, res
	}
	for _, n := range dependentGroupBys {
		if it := c.loadByName(kindGroupBy, n); it != nil && !extraSeen[n] {
			extraSeen[n] = true
			it.force = true
			extraGroupBys = append(extraGroupBys, it)
		}
	}
	for _, it := range extraGroupBys {
		c.teamDefaults(it)
		c.write(it, view, writes, res, c.opts.ForceOverwrite)
	}
	for _, n := range dependentJoins {
		if it := c.loadByName(kindJoin, n); it != nil {
			it.force = true
			c.teamDefaults(it)
			c.fillTemplates(it)
			c.write(it, view, writes, res, c.opts.ForceOverwrite)
		}
	}
	sort.Strings(res.Written)
	sort.Strings(res.Unchanged)
	return writes, res
}

func uniqSorted(xs []string) []string {
	sort.Strings(xs)
	var out []string
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// addLoadError records a file's errors once: a module that fails is reported by every file loading it.
func (c *compiler) addLoadError(err error) {
	errs := []error{err}
	if l, ok := err.(sa.ErrorList); ok {
		errs = errs[:0]
		for _, e := range l {
			errs = append(errs, e)
		}
	}
	for _, e := range errs {
		dup := false
		for _, p := range c.problems {
			if p.Error() == e.Error() {
				dup = true
			}
		}
		if !dup {
			c.problems = append(c.problems, e)
		}
	}
}

// loadByName finds the definition of a conf from its name (team.file.var → <folder>/team/file.star).
func (c *compiler) loadByName(k kind, name string) *item {
	parts := strings.Split(name, ".")
	if len(parts) < 3 {
		c.fail("cannot find the definition of %s %s (names look like team.file.variable)", k.className(), name)
		return nil
	}
	file := filepath.ToSlash(filepath.Join(append([]string{k.folder()}, parts[:len(parts)-1]...)...)) + sa.FileExt
	items, err := c.extract(file)
	if err != nil {
		c.addLoadError(err)
		return nil
	}
	for _, it := range items {
		if it.name == name {
			return it
		}
	}
	c.fail("%s defines no %s named %s", file, k.className(), name)
	return nil
}

// teamDefaults fills namespace, table properties and team from teams.json (spec §1.3).
func (c *compiler) teamDefaults(it *item) {
	team := strings.SplitN(it.name, ".", 2)[0]
	c.applyTeam(it, it.meta(), team)
	if gb, ok := it.obj.(*api.GroupBy); ok {
		for _, src := range gb.Sources {
			if src.JoinSource != nil && src.JoinSource.Join != nil {
				if src.JoinSource.Join.MetaData == nil {
					src.JoinSource.Join.MetaData = &api.MetaData{}
				}
				c.applyTeam(it, src.JoinSource.Join.MetaData, team)
			}
		}
	}
}

func (c *compiler) applyTeam(it *item, md *api.MetaData, team string) {
	ns, err := c.teams.Namespace(team)
	if err != nil {
		c.fail("%s%s %s: %v", it.where(), it.kind.className(), it.name, err)
		return
	}
	keys, props, err := c.teams.TableProperties(team)
	if err != nil {
		c.fail("%s%v", it.where(), err)
		return
	}
	if md.OutputNamespace == nil || *md.OutputNamespace == "" {
		md.OutputNamespace = &ns
	}
	if len(md.TableProperties) == 0 && props != nil {
		md.TableProperties = props
		c.order.Set(props, keys)
	}
	md.Team = &team
}

// fillTemplates substitutes {{ logged_table }}, {{ db }} and {{ join_backfill_table }} (spec §1.3, §14.2).
func (c *compiler) fillTemplates(it *item) {
	team := strings.SplitN(it.name, ".", 2)[0]
	ns, err := c.teams.Namespace(team)
	if err != nil {
		return // reported by teamDefaults
	}
	md := it.meta()
	outTable := func() string {
		db := "{{ db }}"
		if md.OutputNamespace != nil && *md.OutputNamespace != "" {
			db = *md.OutputNamespace
		}
		return db + "." + sa.Sanitize(it.name)
	}
	fill := func(s string) string {
		s = strings.ReplaceAll(s, "{{ logged_table }}", outTable()+"_logged")
		return strings.ReplaceAll(s, "{{ db }}", ns)
	}
	switch o := it.obj.(type) {
	case *api.Join:
		if len(o.BootstrapParts) > 0 {
			for _, bp := range o.BootstrapParts {
				if bp.Table != nil {
					t := fill(*bp.Table)
					bp.Table = &t
				}
			}
			for i, d := range md.Dependencies {
				md.Dependencies[i] = fill(d)
			}
		}
		if o.LabelPart != nil && o.LabelPart.MetaData != nil {
			for i, d := range o.LabelPart.MetaData.Dependencies {
				o.LabelPart.MetaData.Dependencies[i] = strings.ReplaceAll(d, "{{ join_backfill_table }}", outTable())
			}
		}
	case *api.GroupBy:
		for i, d := range md.Dependencies {
			md.Dependencies[i] = fill(d)
		}
	}
}

// write decides whether it is written and renders it; false when skipped or rejected.
func (c *compiler) write(it *item, view map[string]*api.Join, writes map[string][]byte, res *Result, forceOverwrite bool) bool {
	rel := it.relPath()
	display := filepath.Join(c.opts.OutputRoot, rel)
	if gb, ok := it.obj.(*api.GroupBy); ok && !it.force && !forceOverwrite {
		online := gb.MetaData.Online != nil && *gb.MetaData.Online
		if !online && gb.BackfillStartDate == nil {
			c.warn("skipping GroupBy %s: it is neither online nor has a backfill_start_date, so nothing runs it on its own (it is compiled into the joins that use it)", it.name)
			res.Skipped = append(res.Skipped, display)
			return false
		}
	}
	before := len(c.problems)
	for _, e := range c.validate(it, view) {
		c.fail("%s%s %s: %s", it.where(), it.kind.className(), it.name, e)
	}
	if len(c.problems) > before {
		return false
	}
	if !forceOverwrite && !c.safeToOverwrite(it) {
		c.fail("%s%s: cannot overwrite %s: the existing conf is online and this change alters what it computes; pass --force-overwrite if you mean it (online data will no longer match)", it.where(), it.name, display)
		return false
	}
	old := c.oldFiles[rel]
	if j, ok := it.obj.(*api.Join); ok && old != nil {
		c.preserveSamplePercent(it, j, old)
	}
	if old != nil {
		c.preserveEnv(it, old)
	}
	data, err := conf.Marshal(it.obj, c.order)
	if err != nil {
		c.fail("%s%s: %v", it.where(), it.name, err)
		return false
	}
	if err := roundTrip(it.obj, data); err != nil {
		c.fail("%s%s: the conf does not survive a round trip (%v); please report this", it.where(), it.name, err)
		return false
	}
	writes[rel] = data
	if bytes.Equal(old, data) {
		res.Unchanged = append(res.Unchanged, display)
	} else {
		res.Written = append(res.Written, display)
	}
	return true
}

func roundTrip(obj any, data []byte) error {
	fresh := reflect.New(reflect.TypeOf(obj).Elem()).Interface()
	o, err := conf.Unmarshal(data, fresh)
	if err != nil {
		return err
	}
	again, err := conf.Marshal(fresh, o)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("re-encoding changed the bytes")
	}
	return nil
}

// downstream lists confs under the output root (or written now) that embed or read it:
// joins using a GroupBy, GroupBys whose JoinSource is a Join. Entries are "folder:name".
func (c *compiler) downstream(it *item, writes map[string][]byte) []string {
	var out []string
	switch it.kind {
	case kindGroupBy:
		for name, j := range c.oldJoins {
			for _, jp := range j.JoinParts {
				if jp.GroupBy != nil && metaName(jp.GroupBy.MetaData) == it.name {
					out = append(out, "joins:"+name)
					break
				}
			}
		}
	case kindJoin:
		for name, gb := range c.oldGroupBys {
			for _, src := range gb.Sources {
				if src.JoinSource != nil && src.JoinSource.Join != nil && metaName(src.JoinSource.Join.MetaData) == it.name {
					out = append(out, "group_bys:"+name)
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

var datePrefix = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
var startEndTemplate = regexp.MustCompile(`(?i)\{\{\s*(start_date|end_date)\s*\}\}`)

// validate reproduces compile.py's validator (spec §1.6); it may mark GroupBys production.
func (c *compiler) validate(it *item, view map[string]*api.Join) []string {
	switch o := it.obj.(type) {
	case *api.GroupBy:
		return c.validateGroupBy(o, view)
	case *api.Join:
		return c.validateJoin(o, view)
	case *api.StagingQuery:
		var errs []string
		if o.CreateView != nil && *o.CreateView && o.Query != nil {
			var found []string
			for _, m := range startEndTemplate.FindAllStringSubmatch(*o.Query, -1) {
				if !contains(found, strings.ToLower(m[1])) {
					found = append(found, strings.ToLower(m[1]))
				}
			}
			if len(found) > 0 {
				errs = append(errs, fmt.Sprintf("createView=True cannot be combined with date templates (%s): a view shows all data and readers filter by partition", strings.Join(found, ", ")))
			}
		}
		return errs
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (c *compiler) validateGroupBy(gb *api.GroupBy, view map[string]*api.Join) []string {
	name := metaName(gb.MetaData)
	var onlineJoins, prodJoins []string
	for jn, j := range view {
		for _, jp := range j.JoinParts {
			if jp.GroupBy != nil && metaName(jp.GroupBy.MetaData) == name {
				if j.MetaData.Online != nil && *j.MetaData.Online {
					onlineJoins = append(onlineJoins, jn)
				}
				if j.MetaData.Production != nil && *j.MetaData.Production {
					prodJoins = append(prodJoins, jn)
				}
				break
			}
		}
	}
	sort.Strings(onlineJoins)
	sort.Strings(prodJoins)
	var errs []string
	md := gb.MetaData
	if md.Online != nil && !*md.Online && len(onlineJoins) > 0 {
		errs = append(errs, fmt.Sprintf("group_by %s is explicitly online=False but used by the online joins %s", name, strings.Join(onlineJoins, ", ")))
	}
	if len(prodJoins) > 0 {
		if md.Production != nil && !*md.Production {
			errs = append(errs, fmt.Sprintf("group_by %s is explicitly production=False but used by the production joins %s", name, strings.Join(prodJoins, ", ")))
		} else {
			t := true
			md.Production = &t
		}
	}
	if len(gb.Derivations) > 0 {
		cols := append(groupByFeatures(gb, c.order), gb.KeyColumns...)
		errs = append(errs, derivationErrors(gb.KeyColumns, cols, gb.Derivations)...)
	}
	if md.DeprecationDate != nil && !datePrefix.MatchString(*md.DeprecationDate) {
		errs = append(errs, fmt.Sprintf("deprecation_date %q is not a yyyy-MM-dd date", *md.DeprecationDate))
	}
	for _, src := range gb.Sources {
		if src.Events != nil && src.Events.IsCumulative != nil && *src.Events.IsCumulative && (src.Events.Query == nil || src.Events.Query.TimeColumn == nil) {
			errs = append(errs, fmt.Sprintf("the cumulative events table %s needs query time_column", deref(src.Events.Table)))
		}
	}
	return errs
}

func (c *compiler) validateJoin(j *api.Join, view map[string]*api.Join) []string {
	var errs []string
	var offline, nonProdOld []string
	groupByOK := true
	// The join's own parts are checked by the rules below; the GroupBy checks look at other joins.
	others := map[string]*api.Join{}
	for n, other := range view {
		if other != j {
			others[n] = other
		}
	}
	for _, jp := range j.JoinParts {
		gb := jp.GroupBy
		if gb.MetaData == nil || (gb.MetaData.Online != nil && !*gb.MetaData.Online) {
			offline = append(offline, metaName(gb.MetaData))
		}
		if _, old := c.oldGroupBys[metaName(gb.MetaData)]; old && gb.MetaData.Production != nil && !*gb.MetaData.Production {
			nonProdOld = append(nonProdOld, metaName(gb.MetaData))
		}
		for _, e := range c.validateGroupBy(gb, others) {
			groupByOK = false
			errs = append(errs, "its GroupBy "+metaName(gb.MetaData)+": "+e)
		}
	}
	md := j.MetaData
	if md.Production != nil && *md.Production && len(nonProdOld) > 0 {
		errs = append(errs, "it is production but uses the non-production group_bys "+strings.Join(nonProdOld, ", "))
	}
	if md.Online != nil && *md.Online && len(offline) > 0 {
		errs = append(errs, "it is online but uses the offline group_bys "+strings.Join(offline, ", "))
	}
	if md.DeprecationDate != nil && !datePrefix.MatchString(*md.DeprecationDate) {
		errs = append(errs, fmt.Sprintf("deprecation_date %q is not a yyyy-MM-dd date", *md.DeprecationDate))
	}
	if len(j.Derivations) > 0 && groupByOK {
		left := selectKeys(j.Left, c.order)
		cols := append(append(joinInternalFeatures(j, c.order), joinExternalFeatures(j)...), left...)
		errs = append(errs, derivationErrors(left, cols, j.Derivations)...)
	}
	return errs
}

// safeToOverwrite: an existing online conf may only be replaced by one that computes the same thing
// (metaData is ignored; for joins also each part's groupBy.metaData and onlineExternalParts).
func (c *compiler) safeToOverwrite(it *item) bool {
	var old any
	switch it.kind {
	case kindGroupBy:
		if gb, ok := c.oldGroupBys[it.name]; ok {
			if gb.MetaData == nil || gb.MetaData.Online == nil || !*gb.MetaData.Online {
				return true
			}
			old = gb
		}
	case kindJoin:
		if j, ok := c.oldJoins[it.name]; ok {
			if j.MetaData == nil || j.MetaData.Online == nil || !*j.MetaData.Online {
				return true
			}
			old = j
		}
	}
	if old == nil {
		return true
	}
	a, errA := comparable(it.obj, c.order)
	b, errB := comparable(old, c.oldOrder)
	if errA != nil || errB != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

func comparable(obj any, o *conf.Order) (map[string]any, error) {
	data, err := conf.MarshalCompact(obj, o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "metaData")
	if parts, ok := m["joinParts"].([]any); ok {
		for _, p := range parts {
			if pm, ok := p.(map[string]any); ok {
				if gb, ok := pm["groupBy"].(map[string]any); ok {
					delete(gb, "metaData")
				}
			}
		}
		delete(m, "onlineExternalParts")
	}
	return m, nil
}

// preserveSamplePercent asks before a recompile silently turns logging off (spec §1.6).
func (c *compiler) preserveSamplePercent(it *item, j *api.Join, old []byte) {
	var prev api.Join
	if _, err := conf.Unmarshal(old, &prev); err != nil || prev.MetaData == nil || prev.MetaData.SamplePercent == nil {
		return
	}
	if *prev.MetaData.SamplePercent > 0 && j.MetaData.SamplePercent == nil {
		q := fmt.Sprintf("%s: the existing conf logs %v%% of fetches and the new one sets no sample_percent, which disables logging. Disable logging?", it.name, *prev.MetaData.SamplePercent)
		if !c.confirm(q, false) {
			j.MetaData.SamplePercent = prev.MetaData.SamplePercent
			c.warn("%s: kept the existing samplePercent %v", it.name, *prev.MetaData.SamplePercent)
		}
	}
}

// preserveEnv keeps existing modeToEnvMap values when the user says so (spec §1.6).
func (c *compiler) preserveEnv(it *item, old []byte) {
	prev := reflect.New(reflect.TypeOf(it.obj).Elem()).Interface()
	o, err := conf.Unmarshal(old, prev)
	if err != nil || !hasEnvMap(reflect.ValueOf(prev)) {
		return
	}
	if c.confirm(fmt.Sprintf("%s: the existing conf sets modeToEnvMap. Replace it with the new values?", it.name), true) {
		return
	}
	copyEnvMaps(reflect.ValueOf(prev), reflect.ValueOf(it.obj), o, c.order)
	c.warn("%s: kept the existing modeToEnvMap", it.name)
}

func (c *compiler) confirm(q string, def bool) bool {
	if c.opts.Confirm == nil {
		return def
	}
	return c.opts.Confirm(q, def)
}

var metaDataType = reflect.TypeOf(api.MetaData{})

func hasEnvMap(v reflect.Value) bool {
	found := false
	walkPair(v, v, func(a, _ reflect.Value) {
		if a.Type() == metaDataType && !a.FieldByName("ModeToEnvMap").IsNil() {
			found = true
		}
	})
	return found
}

func copyEnvMaps(from, to reflect.Value, fromOrder, toOrder *conf.Order) {
	walkPair(from, to, func(a, b reflect.Value) {
		if a.Type() == metaDataType && !a.FieldByName("ModeToEnvMap").IsNil() {
			m := a.FieldByName("ModeToEnvMap").Interface().(map[string]map[string]string)
			b.FieldByName("ModeToEnvMap").Set(reflect.ValueOf(cloneEnv(m, fromOrder, toOrder)))
		}
	})
}

func cloneEnv(m map[string]map[string]string, from, to *conf.Order) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, k := range from.Keys(m) {
		inner := map[string]string{}
		for _, ik := range from.Keys(m[k]) {
			inner[ik] = m[k][ik]
		}
		to.Set(inner, from.Keys(m[k]))
		out[k] = inner
	}
	to.Set(out, from.Keys(m))
	return out
}

// walkPair visits structs found at the same paths in a and b.
func walkPair(a, b reflect.Value, visit func(a, b reflect.Value)) {
	if a.Kind() == reflect.Ptr {
		if a.IsNil() || b.IsNil() {
			return
		}
		a, b = a.Elem(), b.Elem()
	}
	switch a.Kind() {
	case reflect.Struct:
		visit(a, b)
		for i := 0; i < a.NumField(); i++ {
			walkPair(a.Field(i), b.Field(i), visit)
		}
	case reflect.Slice:
		for i := 0; i < a.Len() && i < b.Len(); i++ {
			walkPair(a.Index(i), b.Index(i), visit)
		}
	}
}

// deprecationWarnings warns (never fails) about deprecation dates along dependencies, as compile.py
// does: a deprecated conf's downstream confs should be deprecated no later; a conf that is not
// deprecated is told which of its upstream GroupBys or joins are.
func (c *compiler) deprecationWarnings(it *item) {
	md := it.meta()
	if dd := deref(md.DeprecationDate); dd != "" {
		var late []string
		for _, d := range c.downstream(it, nil) {
			folder, name, _ := strings.Cut(d, ":")
			var dmd *api.MetaData
			if folder == "joins" {
				if j := c.oldJoins[name]; j != nil {
					dmd = j.MetaData
				}
			} else if g := c.oldGroupBys[name]; g != nil {
				dmd = g.MetaData
			}
			if dmd == nil || dmd.DeprecationDate == nil || *dmd.DeprecationDate > dd {
				late = append(late, name)
			}
		}
		if len(late) > 0 {
			c.warn("%s is deprecated on %s but its downstream confs %s have no deprecation date or a later one: migrate them or deprecate them too", it.name, dd, strings.Join(late, ", "))
		}
		return
	}
	var upstream []*api.MetaData
	switch o := it.obj.(type) {
	case *api.Join:
		for _, jp := range o.JoinParts {
			upstream = append(upstream, jp.GroupBy.MetaData)
		}
	case *api.GroupBy:
		for _, src := range o.Sources {
			if src.JoinSource != nil && src.JoinSource.Join != nil {
				upstream = append(upstream, src.JoinSource.Join.MetaData)
			}
		}
	}
	for _, u := range upstream {
		if u != nil && u.DeprecationDate != nil {
			c.warn("%s uses %s, which is deprecated on %s: migrate %s or give it a deprecation date", it.name, metaName(u), *u.DeprecationDate, it.name)
		}
	}
}
