package types

import (
	"fmt"

	"github.com/chronon-go/chronon/thrift/api"
)

// FromThrift converts a conf's TDataType (e.g. an ExternalSource's key or value schema) into a Type.
func FromThrift(t *api.TDataType) (*Type, error) {
	if t == nil {
		return nil, fmt.Errorf("missing data type")
	}
	param := func(i int) (*Type, error) {
		if len(t.Params) <= i {
			return nil, fmt.Errorf("%s needs %d type parameters", t.Kind, i+1)
		}
		return FromThrift(t.Params[i].DataType)
	}
	switch t.Kind {
	case api.DataKind_LIST:
		e, err := param(0)
		if err != nil {
			return nil, err
		}
		return ListOf(e), nil
	case api.DataKind_MAP:
		k, err := param(0)
		if err != nil {
			return nil, err
		}
		v, err := param(1)
		if err != nil {
			return nil, err
		}
		return MapOf(k, v), nil
	case api.DataKind_STRUCT:
		var fs []Field
		for _, f := range t.Params {
			ft, err := FromThrift(f.DataType)
			if err != nil {
				return nil, err
			}
			fs = append(fs, Field{Name: f.GetName(), Type: ft})
		}
		return StructOf(t.GetName(), fs...), nil
	}
	return &Type{Kind: Kind(t.Kind)}, nil
}
