package aggregate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// IsTimed reports FIRST, LAST, FIRST_K and LAST_K: ops ordered by event time, which treat list and map
// inputs as one value. All other ops are "simple" (spec §5 Containers).
func IsTimed(op api.Operation) bool {
	switch op {
	case api.Operation_FIRST, api.Operation_LAST, api.Operation_FIRST_K, api.Operation_LAST_K:
		return true
	}
	return false
}

// Deletable reports Chronon's deletable ops (SimpleAggregators isDeletable): SUM, COUNT, AVERAGE and
// HISTOGRAM. Mutation retractions need them.
func Deletable(op api.Operation) bool {
	switch op {
	case api.Operation_SUM, api.Operation_COUNT, api.Operation_AVERAGE, api.Operation_HISTOGRAM:
		return true
	}
	return false
}

// argInt reads argMap[name]; def < 0 means the argument is required.
func argInt(args map[string]string, name string, def int) (int, error) {
	s, ok := args[name]
	if !ok {
		if def < 0 {
			return 0, fmt.Errorf("argument %q is required", name)
		}
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("argument %q: %q is not an integer", name, s)
	}
	if n < 0 {
		return 0, fmt.Errorf("argument %q must not be negative, got %d", name, n)
	}
	return n, nil
}

func argPercentiles(args map[string]string) ([]float64, error) {
	s, ok := args["percentiles"]
	if !ok {
		return []float64{0.5}, nil
	}
	var ps []float64
	if err := json.Unmarshal([]byte(s), &ps); err != nil {
		return nil, fmt.Errorf("argument \"percentiles\": %q is not a JSON list of numbers", s)
	}
	for _, p := range ps {
		if p < 0 || p > 1 {
			return nil, fmt.Errorf("argument \"percentiles\": %v is outside [0, 1]", p)
		}
	}
	return ps, nil
}

// newKernel builds the kernel of op for a scalar input type (timed ops: any type), applying Chronon's
// input rules and widenings (ColumnAggregator.construct).
func newKernel(op api.Operation, args map[string]string, in *types.Type) (kernel, error) {
	if in.Kind == types.Date || in.Kind == types.Timestamp {
		return nil, fmt.Errorf("%s input cannot be aggregated; convert it to a long (epoch millis) or string in the select", in)
	}
	fam := familyOf(in)
	mismatch := func() (kernel, error) {
		return nil, fmt.Errorf("input type %s is not supported by %s", in, op)
	}
	// Chronon's numeric ops accept short, int, long, float, double (not byte).
	numeric := in.Kind == types.Short || in.Kind == types.Int || in.Kind == types.Long || fam == famFloat
	switch op {
	case api.Operation_COUNT:
		return countKernel{}, nil
	case api.Operation_SUM:
		switch {
		case numeric && fam == famInt, in.Kind == types.Boolean:
			return sumLongKernel{}, nil
		case fam == famFloat:
			return sumDoubleKernel{}, nil
		}
		return mismatch()
	case api.Operation_AVERAGE, api.Operation_VARIANCE, api.Operation_SKEW, api.Operation_KURTOSIS:
		if !numeric {
			return mismatch()
		}
		switch op {
		case api.Operation_AVERAGE:
			return avgKernel{}, nil
		case api.Operation_VARIANCE:
			return varKernel{}, nil
		}
		return momentsKernel{kurtosis: op == api.Operation_KURTOSIS}, nil
	case api.Operation_MIN, api.Operation_MAX:
		max := op == api.Operation_MAX
		switch {
		case numeric && fam == famInt:
			return orderKernel[int64]{typ: in, max: max}, nil
		case fam == famFloat:
			return orderKernel[float64]{typ: in, max: max}, nil
		case fam == famString:
			return orderKernel[string]{typ: in, max: max}, nil
		}
		return mismatch()
	case api.Operation_TOP_K, api.Operation_BOTTOM_K:
		k, err := argInt(args, "k", -1)
		if err != nil {
			return nil, err
		}
		top := op == api.Operation_TOP_K
		switch {
		case numeric && fam == famInt:
			return orderLimitKernel[int64]{typ: in, k: k, top: top}, nil
		case fam == famFloat:
			return orderLimitKernel[float64]{typ: in, k: k, top: top}, nil
		case fam == famString:
			return orderLimitKernel[string]{typ: in, k: k, top: top}, nil
		}
		return mismatch()
	case api.Operation_UNIQUE_COUNT:
		switch {
		case numeric && fam == famInt:
			return uniqueKernel[int64]{typ: in}, nil
		case fam == famFloat:
			return uniqueKernel[float64]{typ: in}, nil
		case fam == famString:
			return uniqueKernel[string]{typ: in}, nil
		case fam == famBinary:
			return uniqueKernel[string]{typ: in, binary: true}, nil
		}
		return mismatch()
	case api.Operation_BOUNDED_UNIQUE_COUNT:
		k, err := argInt(args, "k", 8)
		if err != nil {
			return nil, err
		}
		switch {
		case numeric && fam == famInt:
			return boundedKernel[int64]{typ: in, k: k}, nil
		case fam == famFloat:
			return boundedKernel[float64]{typ: in, k: k}, nil
		case fam == famString:
			return boundedKernel[string]{typ: types.StringType, k: k, hash: true}, nil
		case fam == famBinary:
			return boundedKernel[string]{typ: in, k: k, binary: true}, nil
		}
		return mismatch()
	case api.Operation_APPROX_UNIQUE_COUNT:
		k, err := argInt(args, "k", 8)
		if err != nil {
			return nil, err
		}
		if !numeric && fam != famString && fam != famBinary {
			return mismatch()
		}
		return newHLLKernel(k), nil
	case api.Operation_APPROX_PERCENTILE:
		k, err := argInt(args, "k", 128)
		if err != nil {
			return nil, err
		}
		ps, err := argPercentiles(args)
		if err != nil {
			return nil, err
		}
		if !numeric {
			return mismatch()
		}
		return pctKernel{k: max(k, 1), ps: ps}, nil
	case api.Operation_HISTOGRAM:
		k, err := argInt(args, "k", 0)
		if err != nil {
			return nil, err
		}
		if fam != famString {
			return mismatch()
		}
		return histKernel{k: k}, nil
	case api.Operation_APPROX_HISTOGRAM_K:
		k, err := argInt(args, "k", 8)
		if err != nil {
			return nil, err
		}
		if !numeric && fam != famString {
			return mismatch()
		}
		return freqKernel{k: k}, nil
	case api.Operation_FIRST, api.Operation_LAST:
		return firstLastKernel{typ: in, fam: fam, last: op == api.Operation_LAST}, nil
	case api.Operation_FIRST_K, api.Operation_LAST_K:
		k, err := argInt(args, "k", -1)
		if err != nil {
			return nil, err
		}
		return timedK{typ: in, fam: fam, k: k, last: op == api.Operation_LAST_K}, nil
	}
	return nil, fmt.Errorf("unknown operation %d", op)
}
