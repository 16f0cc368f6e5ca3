"""One fix to Ibis's PostgreSQL compiler, applied when the PostgreSQL engine is opened.

PostgreSQL casts boolean only to `integer` (int4), not to `bigint`, so Ibis's
`bool_col.cast("int64")` (natural when counting: `flag.cast("int64").sum()`) fails there with
"cannot cast type boolean to bigint" while DuckDB and Spark accept it. Going through int4 first
gives the same value on every engine.
"""

from __future__ import annotations

from typing import Any

import sqlglot.expressions as sge

_applied = False


def apply() -> None:
    """Patch `PostgresCompiler.visit_Cast` once: boolean → any integer goes via int4."""
    global _applied
    if _applied:
        return
    from ibis.backends.sql.compilers.postgres import PostgresCompiler

    original = PostgresCompiler.visit_Cast

    def visit_cast(self: Any, op: Any, *, arg: Any, to: Any) -> Any:
        if op.arg.dtype.is_boolean() and to.is_integer() and not to.is_int32():
            arg = sge.Cast(this=arg, to=sge.DataType.build("INT"))
        return original(self, op, arg=arg, to=to)

    PostgresCompiler.visit_Cast = visit_cast
    PostgresCompiler.visit_TryCast = visit_cast
    _applied = True
