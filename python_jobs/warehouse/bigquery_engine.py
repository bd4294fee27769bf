"""The BigQuery implementation of the warehouse boundary (``prod`` target).

- SQL: callers write DuckDB-dialect SQL with positional ``?`` parameters and ``schema.table``
  names. Each statement is transpiled once (sqlglot, cached): schemas become datasets of
  ``NBA_PROPS_BQ_PROJECT`` (`` `project`.raw.alerts ``), ``?`` become named parameters ``@p1 ..``
  (so a transpilation that repeats or reorders an expression keeps the right values), and the few
  DuckDB functions BigQuery lacks are rewritten (``timezone(tz, ts)`` -> ``DATETIME(ts, tz)``,
  ``x in (select unnest(?))`` -> ``x IN UNNEST(@p)``, ``information_schema.*`` -> the region's).
- Parameters are typed from their Python values; a ``None`` takes the type of its context (a
  ``CAST``, the INSERT/UPDATE/MERGE target column, the column it is compared with), else STRING.
- Bulk writes are load jobs (Parquet from memory, never streaming inserts: their buffer blocks
  UPDATE/MERGE for up to 90 minutes). ``merge_arrow`` loads a staging table that expires by itself,
  runs one parameter-free MERGE, and drops it.
- ``transaction()`` is a BigQuery session: ``BEGIN TRANSACTION`` in a new session, every statement
  of the block in it, then ``COMMIT`` (or ``ROLLBACK`` on error), then the session is ended.
- Errors are classified by ``bq_errors``: transient ones are retried with bounded backoff outside
  transactions (inside, the whole transaction fails and rolls back), permanent ones fail at once.
"""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.tokens import TokenType

from python_jobs.errors import ConfigurationError, PermanentError
from python_jobs.warehouse import bq_errors
from python_jobs.warehouse.base import Params, Warehouse

if TYPE_CHECKING:
    from google.cloud import bigquery

    from python_jobs.config import Settings

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
API_RETRY_TIMEOUT_S = 60.0
STAGING_TTL = timedelta(hours=1)  # a staging table left behind by a crash expires by itself
# BigQuery legacy type names in table schemas -> standard SQL names used by query parameters
_STANDARD_TYPE = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}
_ARROW_TYPE = {
    "STRING": pa.string(), "INT64": pa.int64(), "FLOAT64": pa.float64(), "BOOL": pa.bool_(),
    "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us", tz="UTC"), "DATETIME": pa.timestamp("us"),
    "TIME": pa.time64("us"), "BYTES": pa.binary(), "NUMERIC": pa.decimal128(38, 9),
    "BIGNUMERIC": pa.decimal256(76, 38), "JSON": pa.string(),
}


# --------------------------------------------------------------------------- SQL translation
@dataclass(frozen=True)
class Hint:
    """Where a parameter sits, to type it when its value is None (or an empty list)."""

    type: str | None = None  # from a CAST: standard SQL type, e.g. 'DATE', 'ARRAY<DATE>'
    tables: tuple[str, ...] = ()  # candidate tables ('raw.alerts') of the column below
    column: str | None = None
    position: int | None = None  # INSERT ... VALUES without a column list: index in table order


@dataclass(frozen=True)
class Translated:
    sql: str
    n_params: int
    hints: tuple[Hint | None, ...]
    is_ddl: bool = False  # CREATE/DROP/ALTER: cached table schemas may be stale after it


def _number_placeholders(sql: str) -> str:
    """``?`` -> ``$1, $2, ..`` (sqlglot's DuckDB reader parses ``$n`` everywhere, ``?::`` too)."""
    out: list[str] = []
    last = 0
    n = 0
    for token in DuckDB().tokenize(sql):
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?":
            replacement = "${}"
        elif token.token_type == TokenType.QDCOLON:  # '?::' is one token
            replacement = "${}::"
        else:
            continue
        n += 1
        out.append(sql[last:token.start])
        out.append(replacement.format(n))
        last = token.end + 1
    out.append(sql[last:])
    return "".join(out)


def _table_name(table: exp.Table) -> str | None:
    return f"{table.db}.{table.name}" if table.db else None


def _hint(node: exp.Placeholder, statement: exp.Expression, aliases: dict[str, str]) -> Hint | None:
    parent = node.parent
    tables = tuple(dict.fromkeys(aliases.values()))
    if isinstance(parent, exp.Cast):
        return Hint(type=parent.to.sql(dialect="bigquery"))
    if isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
        insert = parent.find_ancestor(exp.Insert)
        if insert is not None:
            index = parent.expressions.index(node)
            target = insert.this
            if isinstance(target, exp.Schema):
                name = _table_name(target.this)
                columns = [c.name for c in target.expressions]
                return Hint(tables=(name,) if name else (), column=columns[index]) if index < len(columns) else None
            name = _table_name(target) if isinstance(target, exp.Table) else None
            return Hint(tables=(name,), position=index) if name else None
    if isinstance(parent, exp.Alias):  # MERGE ... USING (SELECT ? AS col ...): the target's col
        merge = parent.find_ancestor(exp.Merge)
        if merge is not None and isinstance(merge.this, exp.Table):
            name = _table_name(merge.this)
            return Hint(tables=(name,) if name else (), column=parent.alias)
        return None
    if isinstance(parent, exp.Explode | exp.Unnest):  # x in (select unnest(?)): x's type
        in_ = parent.find_ancestor(exp.In)
        parent = in_ if in_ is not None and isinstance(in_.this, exp.Column) else parent
    if isinstance(parent, exp.Binary | exp.In):
        other = [c for c in parent.args.values() if isinstance(c, exp.Column)]
        if isinstance(parent, exp.In):
            other = [parent.this] if isinstance(parent.this, exp.Column) else []
        if other:
            column = other[0]
            if column.table and column.table in aliases:
                return Hint(tables=(aliases[column.table],), column=column.name)
            return Hint(tables=tables, column=column.name)
    return None


def _rewrite_functions(node: exp.Expression) -> exp.Expression | None:
    """DuckDB constructs BigQuery lacks (first pass: may move whole subtrees)."""
    # BigQuery takes primary keys only as table-level 'NOT ENFORCED' hints (which the emulator
    # cannot parse); nothing relies on them there: uniqueness is kept by MERGE on the keys
    if isinstance(node, exp.ColumnConstraint) and isinstance(node.args.get("kind"), exp.PrimaryKeyColumnConstraint):
        return None
    if isinstance(node, exp.PrimaryKey) and isinstance(node.parent, exp.Schema):
        return None
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "timezone" and len(node.expressions) == 2:
        zone, value = node.expressions
        return exp.Anonymous(this="DATETIME", expressions=[value, zone])
    if isinstance(node, exp.In) and isinstance(node.args.get("query"), exp.Subquery):
        select = node.args["query"].this
        if (isinstance(select, exp.Select) and not select.args.get("from_") and not select.args.get("from")
                and len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Explode | exp.Unnest)):
            inner = select.expressions[0]
            array = inner.this if isinstance(inner, exp.Explode) else inner.expressions[0]
            return exp.In(this=node.this, unnest=exp.Unnest(expressions=[array]))
    return node


def _rewrite_names(node: exp.Expression, project: str, location: str) -> exp.Expression:
    """Second pass: ``$n`` -> ``@pn``; ``schema.table`` -> `` `project`.schema.table ``."""
    if isinstance(node, exp.Placeholder):
        return exp.Parameter(this=exp.var(f"p{node.this}"))
    if isinstance(node, exp.Table) and node.db and not node.catalog:
        if node.db.lower() == "information_schema":
            node.set("db", exp.Identifier(this="INFORMATION_SCHEMA"))
            node.set("this", exp.Identifier(this=node.name.upper()))
            node.set("catalog", exp.Identifier(this=f"{project}.region-{location.lower()}", quoted=True))
        else:
            node.set("catalog", exp.Identifier(this=project, quoted=True))
    return node


@lru_cache(maxsize=1024)
def translate(sql: str, project: str, location: str = "US") -> Translated:
    """DuckDB SQL with ``?`` -> BigQuery SQL with ``@p1..`` (one statement; cached)."""
    numbered = _number_placeholders(sql)
    try:
        statements = [s for s in sqlglot.parse(numbered, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PermanentError(f"SQL the BigQuery engine cannot read as DuckDB SQL: {first}") from exc
    if len(statements) != 1:
        raise PermanentError(f"one statement per call, got {len(statements)}")
    statement = statements[0]
    if isinstance(statement, exp.Transaction | exp.Commit | exp.Rollback):
        raise PermanentError("transaction control statements are not run directly: use Warehouse.transaction()")
    aliases: dict[str, str] = {}
    for table in statement.find_all(exp.Table):
        name = _table_name(table)
        if name and table.db.lower() != "information_schema":
            aliases[table.alias_or_name] = name
            aliases.setdefault(table.name, name)
    placeholders = list(statement.find_all(exp.Placeholder))
    numbers = [int(p.this) for p in placeholders]
    n_params = max(numbers, default=0)
    hints: list[Hint | None] = [None] * n_params
    for p in placeholders:
        hints[int(p.this) - 1] = hints[int(p.this) - 1] or _hint(p, statement, aliases)
    rewritten = statement.transform(_rewrite_functions, copy=True)
    rewritten = rewritten.transform(lambda n: _rewrite_names(n, project, location), copy=False)
    try:  # a construct BigQuery cannot express with the same meaning fails here, not silently
        bq_sql = rewritten.sql(dialect="bigquery", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as exc:
        raise PermanentError(f"SQL not expressible in BigQuery: {str(exc).splitlines()[0]}") from exc
    return Translated(sql=bq_sql, n_params=n_params, hints=tuple(hints),
                      is_ddl=isinstance(statement, exp.Create | exp.Drop | exp.Alter))


# --------------------------------------------------------------------------- parameters
def _python_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        return "NUMERIC"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bytes | bytearray | memoryview):
        return "BYTES"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    if isinstance(value, time):
        return "TIME"
    return None


def _plain(value: Any) -> Any:
    """numpy scalars -> Python; NaT -> None; datetimes -> UTC (naive ones are UTC already)."""
    if value is None or type(value).__name__ == "NaTType":
        return None
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, datetime):
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


class BigQueryWarehouse(Warehouse):
    """The warehouse on BigQuery: datasets named like the DuckDB schemas, in one project."""

    engine: ClassVar[str] = "bigquery"

    def __init__(self, settings: Settings, *, client: bigquery.Client | None = None):
        from google.cloud import bigquery

        if not settings.bq_project:
            raise ConfigurationError("NBA_PROPS_BQ_PROJECT is not set: the prod target needs a BigQuery project")
        self.project: str = settings.bq_project
        self.location: str = settings.bq_location
        self.max_attempts: int = settings.bq_max_attempts
        # a wait longer than this is a timeout (transient: the retry waits for the same job again)
        self.job_timeout: float = settings.bq_job_timeout_s
        self.client = client or _make_client(settings)
        self._session_id: str | None = None
        self._schemas: dict[str, list[bigquery.SchemaField]] = {}
        self._can_abort_session = True  # the emulator has no BQ.ABORT_SESSION
        # HTTP-level retries of one API call stay short; job-level retries are ours (``_job``)
        self._api_retry = bigquery.DEFAULT_RETRY.with_timeout(API_RETRY_TIMEOUT_S)

    # ------------------------------------------------------------------ plumbing
    def _call(self, fn, action: str):
        if self._session_id is not None:  # a retried statement cannot rejoin an aborted transaction
            return bq_errors.call(fn, action)
        return bq_errors.with_retry(fn, action, attempts=self.max_attempts)

    def _ref(self, table: str) -> str:
        dataset, _, name = table.partition(".")
        if not (_IDENT.match(dataset) and _IDENT.match(name)):
            raise PermanentError(f"table must be 'schema.name' (identifiers only), got {table!r}")
        return f"{self.project}.{dataset}.{name}"

    def _schema(self, table: str) -> list[bigquery.SchemaField]:
        if table not in self._schemas:
            ref = self._ref(table)
            self._schemas[table] = list(self._call(lambda: self.client.get_table(ref), f"schema of {table}").schema)
        return self._schemas[table]

    def _hint_type(self, hint: Hint | None) -> tuple[str, bool] | None:
        """(standard type, repeated) of the place a parameter sits, or None when unknown."""
        if hint is None:
            return None
        if hint.type:
            match = re.fullmatch(r"ARRAY<(.+)>", hint.type)
            return (match.group(1), True) if match else (hint.type, False)
        for table in hint.tables:
            try:
                fields = self._schema(table)
            except PermanentError:  # a CTE name or a table that does not exist: no type from it
                continue
            if hint.position is not None:
                field = fields[hint.position] if hint.position < len(fields) else None
            else:
                field = next((f for f in fields if f.name.lower() == (hint.column or "").lower()), None)
            if field is not None:
                return _STANDARD_TYPE.get(field.field_type, field.field_type), field.mode == "REPEATED"
        return None

    def _bind(self, translated: Translated, params: Params) -> list:
        from google.cloud import bigquery

        values = list(params or [])
        if len(values) != translated.n_params:
            raise PermanentError(f"statement takes {translated.n_params} parameters, got {len(values)}")
        bound = []
        for i, (raw, hint) in enumerate(zip(values, translated.hints, strict=True), start=1):
            name = f"p{i}"
            if isinstance(raw, list | tuple):
                items = [_plain(v) for v in raw]
                kinds = {_python_type(v) for v in items if v is not None}
                if None in kinds:
                    raise PermanentError(f"parameter {i}: unsupported list element type")
                if kinds == {"INT64", "FLOAT64"}:
                    kinds = {"FLOAT64"}
                if len(kinds) > 1:
                    raise PermanentError(f"parameter {i}: list mixes types {', '.join(sorted(kinds))}")
                kind = kinds.pop() if kinds else (self._hint_type(hint) or ("STRING", True))[0]
                bound.append(bigquery.ArrayQueryParameter(name, kind, items))
                continue
            value = _plain(raw)
            kind = _python_type(value)
            if value is None:
                kind = (self._hint_type(hint) or ("STRING", False))[0]
            elif kind is None:
                raise PermanentError(f"parameter {i}: unsupported type {type(raw).__name__}")
            bound.append(bigquery.ScalarQueryParameter(name, kind, value))
        return bound

    def _query(self, sql: str, params: Params, action: str = "query"):
        from google.cloud import bigquery

        translated = translate(sql, self.project, self.location)
        config = bigquery.QueryJobConfig(query_parameters=self._bind(translated, params))
        try:
            return self._run(translated.sql, config, action)
        finally:
            if translated.is_ddl:
                self._schemas.clear()

    def _run(self, bq_sql: str, config, action: str):
        from google.cloud import bigquery

        if self._session_id is not None:
            config.connection_properties = [bigquery.ConnectionProperty("session_id", self._session_id)]

        return self._job(lambda job_id: self._submit_query(bq_sql, config, job_id), self._wait_query, action)

    def _submit_query(self, sql: str, config, job_id: str | None = None):
        """Submit one query job. The library's own job re-runs are off: retries happen once, in
        ``_job`` (or ``bq_errors.with_retry``), bounded."""
        return self.client.query(sql, job_config=config, job_id=job_id, location=self.location,
                                 retry=self._api_retry, job_retry=None)

    def _wait_query(self, job):
        """Wait for a query job (API calls retried, the job itself never re-run, bounded in time)."""
        return job.result(retry=self._api_retry, job_retry=None, timeout=self.job_timeout)

    def _job(self, submit, wait, action: str):
        """Submit a job and wait for it, retrying transient failures without ever running it twice:
        a retry first looks the job up by its id and, unless it failed, waits for it again."""
        from google.api_core.exceptions import NotFound

        state: dict[str, Any] = {"job_id": f"nba_props_{uuid.uuid4().hex}", "job": None, "attempts": 0}

        def attempt():
            state["attempts"] += 1
            job = state["job"]
            if job is None and state["attempts"] > 1:  # submitted before, answer lost?
                try:
                    job = self.client.get_job(state["job_id"], location=self.location, retry=self._api_retry)
                except NotFound:
                    job = None
            elif job is not None:
                job.reload(retry=self._api_retry)
            if job is not None:
                if job.state != "DONE" or job.error_result is None:
                    return wait(job)
                state["job_id"] = f"nba_props_{uuid.uuid4().hex}"  # it failed: run it again, new id
            state["job"] = None
            state["job"] = submit(state["job_id"])
            return wait(state["job"])

        return self._call(attempt, action)

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: Params = None) -> None:
        self._query(sql, params, "statement")

    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        return [tuple(row.values()) for row in self._query(sql, params)]

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        rows = self._query(sql, params)
        return bq_errors.call(lambda: rows.to_arrow(create_bqstorage_client=False), "read of a result")

    # ------------------------------------------------------------------ bulk writes
    def _conform(self, table: str, data: pa.Table) -> tuple[pa.Table, list[bigquery.SchemaField]]:
        """``data`` with the target's columns (by name, missing nullable ones as NULL) and types."""
        fields = self._schema(table)
        by_name = {f.name.lower(): f for f in fields}
        odd = [c for c in data.column_names if not _IDENT.match(c)]
        if odd:
            raise PermanentError(f"load into {table}: column names must be identifiers: {odd!r}")
        extra = [c for c in data.column_names if c.lower() not in by_name]
        if extra:
            raise PermanentError(f"load into {table}: columns not in the table: {', '.join(extra)}")
        given = {c.lower(): c for c in data.column_names}
        arrays, names = [], []
        for field in fields:
            kind = _STANDARD_TYPE.get(field.field_type, field.field_type)
            arrow_type = _ARROW_TYPE.get(kind)
            if arrow_type is None or field.mode == "REPEATED":
                raise PermanentError(f"load into {table}: column {field.name} of type {kind} is not supported")
            if field.name.lower() in given:
                column = data.column(given[field.name.lower()])
                try:
                    column = column.cast(arrow_type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise PermanentError(
                        f"load into {table}: column {field.name} cannot be cast to {kind} ({type(exc).__name__})") from exc
            elif field.mode == "REQUIRED":
                raise PermanentError(f"load into {table}: required column {field.name} is missing")
            else:
                column = pa.nulls(data.num_rows, arrow_type)
            arrays.append(column)
            names.append(field.name)
        return pa.table(arrays, names=names), fields

    def _load(self, ref: str, data: pa.Table, action: str) -> None:
        """One Parquet load job from memory (no ``size=``: one request, no multipart upload)."""
        import pyarrow.parquet as pq
        from google.cloud import bigquery

        buffer = io.BytesIO()
        pq.write_table(data, buffer)
        payload = buffer.getvalue()
        config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                                        create_disposition=bigquery.CreateDisposition.CREATE_NEVER)

        def submit(job_id: str):
            return self.client.load_table_from_file(io.BytesIO(payload), ref, job_config=config, job_id=job_id,
                                                    location=self.location)

        self._job(submit, lambda job: job.result(retry=self._api_retry, timeout=self.job_timeout), action)

    @contextmanager
    def _staging(self, table: str, data: pa.Table, fields: list) -> Iterator[str]:
        """A staging table next to ``table`` holding ``data``; expires by itself, dropped after."""
        from google.cloud import bigquery

        dataset = table.partition(".")[0]
        name = f"{dataset}._stage_{table.partition('.')[2]}_{uuid.uuid4().hex[:12]}"
        ref = self._ref(name)
        staging = bigquery.Table(ref, schema=fields)
        staging.expires = datetime.now(UTC) + STAGING_TTL
        # a unique name: a retry after a lost answer finds its own table (exists_ok)
        self._call(lambda: self.client.create_table(staging, exists_ok=True), f"create staging table for {table}")
        try:
            self._load(ref, data, f"load into staging for {table}")
            yield ref
        finally:
            try:
                self.client.delete_table(ref, not_found_ok=True)
            except Exception as exc:  # the table expires by itself; the write itself succeeded
                log.warning("could not drop staging table %s (it expires in %s): %s", name, STAGING_TTL,
                            bq_errors.classify(exc, "drop staging table"))

    def _quoted(self, ref: str) -> str:
        project, dataset, name = ref.split(".")
        return f"`{project}`.{dataset}.{name}"

    def load_arrow(self, table: str, data: pa.Table) -> int:
        conformed, fields = self._conform(table, data)
        if conformed.num_rows == 0:
            return 0
        if self._session_id is None:
            self._load(self._ref(table), conformed, f"load into {table}")
            return conformed.num_rows
        # inside a transaction a load job would commit on its own: stage it, insert in the session
        columns = ", ".join(f"`{f.name}`" for f in fields)
        with self._staging(table, conformed, fields) as stage:
            from google.cloud import bigquery

            sql = (f"INSERT INTO {self._quoted(self._ref(table))} ({columns}) "
                   f"SELECT {columns} FROM {self._quoted(stage)}")
            self._run(sql, bigquery.QueryJobConfig(), f"insert into {table}")
        return conformed.num_rows

    def merge_arrow(self, table: str, data: pa.Table, keys: Sequence[str]) -> int:
        from google.cloud import bigquery

        if not keys:
            raise PermanentError(f"merge into {table}: no key columns")
        given = {c.lower() for c in data.column_names}
        missing = [k for k in keys if k.lower() not in given]
        if missing:
            raise PermanentError(f"merge into {table}: key columns missing from the data: {', '.join(missing)}")
        conformed, fields = self._conform(table, data)
        if conformed.num_rows == 0:
            return 0
        # only the columns the caller gave are written (a column it left out keeps its value)
        written = [f.name for f in fields if f.name.lower() in given]
        key_set = {k.lower() for k in keys}
        on = " AND ".join(f"t.`{c}` = s.`{c}`" for c in written if c.lower() in key_set)
        updates = ", ".join(f"`{c}` = s.`{c}`" for c in written if c.lower() not in key_set)
        columns = ", ".join(f"`{c}`" for c in written)
        values = ", ".join(f"s.`{c}`" for c in written)
        with self._staging(table, conformed, fields) as stage:
            sql = (f"MERGE {self._quoted(self._ref(table))} AS t USING {self._quoted(stage)} AS s ON {on}"
                   + (f" WHEN MATCHED THEN UPDATE SET {updates}" if updates else "")
                   + f" WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})")
            self._run(sql, bigquery.QueryJobConfig(), f"merge into {table}")
        return conformed.num_rows

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[BigQueryWarehouse]:
        from google.cloud import bigquery

        if self._session_id is not None:
            raise PermanentError("transactions do not nest")

        def begin():
            job = self._submit_query("BEGIN TRANSACTION", bigquery.QueryJobConfig(create_session=True))
            self._wait_query(job)
            return job.session_info.session_id

        self._session_id = bq_errors.with_retry(begin, "begin transaction", attempts=self.max_attempts)
        try:
            try:
                yield self
            except BaseException as exc:
                try:
                    self._run("ROLLBACK TRANSACTION", bigquery.QueryJobConfig(), "rollback")
                except Exception as rollback_exc:  # the original error is the one to report
                    exc.add_note(f"and the rollback failed too: {bq_errors.classify(rollback_exc, 'rollback')}")
                raise
            self._run("COMMIT TRANSACTION", bigquery.QueryJobConfig(), "commit")
        finally:
            self._end_session()

    def _end_session(self) -> None:
        from google.cloud import bigquery

        session, self._session_id = self._session_id, None
        if not self._can_abort_session:
            return
        config = bigquery.QueryJobConfig(connection_properties=[bigquery.ConnectionProperty("session_id", session)])
        try:
            self._wait_query(self._submit_query("CALL BQ.ABORT_SESSION()", config))
        except Exception as exc:  # an idle session ends by itself after 24 h; nothing was lost
            error = bq_errors.classify(exc, "end session")
            if getattr(error, "status_code", None) == 404:  # no BQ.ABORT_SESSION here: stop trying
                self._can_abort_session = False
            log.warning("could not end BigQuery session (it ends by itself when idle): %s", error)

    # ------------------------------------------------------------------ schema
    def table_exists(self, table: str) -> bool:
        from google.api_core.exceptions import NotFound

        ref = self._ref(table)

        def get():
            try:
                self.client.get_table(ref)
                return True
            except NotFound:
                return False

        return self._call(get, f"lookup of {table}")

    def columns(self, schemas: Sequence[str]) -> dict[tuple[str, str], list[str]]:
        """``(schema, table) -> column names in order`` for every table and view of the given
        schemas that exist: one dataset-level INFORMATION_SCHEMA query per dataset (the
        region-level one is what DuckDB's ``information_schema`` maps to, but the emulator's is
        empty, and ``current_database()`` does not exist in BigQuery)."""
        from google.cloud import bigquery

        for schema in schemas:
            if not _IDENT.match(schema):
                raise PermanentError(f"schema must be an identifier, got {schema!r}")
        existing = {d.dataset_id for d in self._call(lambda: list(self.client.list_datasets(self.project)),
                                                      "list datasets")}
        found: dict[tuple[str, str], list[str]] = {}
        for schema in schemas:
            if schema not in existing:
                continue
            sql = (f"SELECT table_name, column_name FROM `{self.project}`.{schema}.INFORMATION_SCHEMA.COLUMNS "
                   "ORDER BY table_name, ordinal_position")
            for table, column in self._run(sql, bigquery.QueryJobConfig(), f"columns of {schema}"):
                found.setdefault((schema, table), []).append(column)
        return found

    def forget_schema(self, table: str | None = None) -> None:
        """Drop cached table schemas (after DDL changed ``table``; all when None)."""
        if table is None:
            self._schemas.clear()
        else:
            self._schemas.pop(table, None)

    def close(self) -> None:
        self.client.close()


def _make_client(settings: Settings) -> bigquery.Client:
    from google.cloud import bigquery

    credentials = None
    options = None
    if settings.bq_api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()
        options = {"api_endpoint": settings.bq_api_endpoint}
    elif settings.bq_keyfile:
        from google.oauth2 import service_account

        if not settings.bq_keyfile.is_file():
            raise ConfigurationError(f"NBA_PROPS_BQ_KEYFILE does not name a file: {settings.bq_keyfile}")
        credentials = service_account.Credentials.from_service_account_file(
            str(settings.bq_keyfile), scopes=["https://www.googleapis.com/auth/cloud-platform"])
    try:
        return bigquery.Client(project=settings.bq_project, credentials=credentials,
                               location=settings.bq_location, client_options=options)
    except Exception as exc:
        raise bq_errors.classify(exc, "client setup") from exc
