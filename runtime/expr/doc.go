// Package expr is Chronon's Spark SQL expression evaluator: the selects, wheres, time columns and
// derivations of confs are parsed, type-checked against the input schema (Compile) and evaluated
// either column-wise over a *types.Batch (Eval, Where, Select) or one row at a time for online
// serving (EvalRow, EvalValues). Both paths share every function implementation, so offline and
// online results cannot drift apart.
//
// Semantics follow Spark 3 in non-ANSI mode with the session time zone UTC; docs/expressions.md
// lists the function catalog and the deliberate differences (no DECIMAL type, RE2 regexes).
package expr
