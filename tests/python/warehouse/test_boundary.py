"""The warehouse boundary: outside ``python_jobs/warehouse/`` no module opens a DuckDB file.

In-memory DuckDB as a compute engine (``duckdb.connect()`` / ``duckdb.connect(":memory:")``) is
allowed; anything else must go through ``python_jobs.warehouse.connect``.
"""

from __future__ import annotations

import ast

from python_jobs.config import PROJECT_ROOT

ALLOWED_DIR = PROJECT_ROOT / "python_jobs" / "warehouse"
SCANNED = [PROJECT_ROOT / "python_jobs", PROJECT_ROOT / "flows"]


def warehouse_opens(source: str) -> list[int]:
    """Line numbers of DuckDB connections to anything but memory in ``source``."""
    tree = ast.parse(source)
    duckdb_names = {"duckdb"}  # names bound to the duckdb module
    connect_names: set[str] = set()  # names bound to duckdb.connect
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            duckdb_names |= {a.asname or a.name for a in node.names if a.name == "duckdb"}
        elif isinstance(node, ast.ImportFrom) and node.module == "duckdb":
            connect_names |= {a.asname or a.name for a in node.names if a.name == "connect"}
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        is_connect = ((isinstance(f, ast.Attribute) and f.attr == "connect" and isinstance(f.value, ast.Name)
                       and f.value.id in duckdb_names)
                      or (isinstance(f, ast.Name) and f.id in connect_names))
        if not is_connect:
            continue
        target = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "database"), None)
        in_memory = target is None or (isinstance(target, ast.Constant) and target.value in (":memory:", ""))
        if not in_memory:
            bad.append(node.lineno)
    return bad


def test_the_scanner_tells_memory_from_files():
    assert warehouse_opens("import duckdb\nduckdb.connect()\nduckdb.connect(':memory:')\n") == []
    assert warehouse_opens("import duckdb\nduckdb.connect(str(p), read_only=True)\n") == [2]
    assert warehouse_opens("import duckdb as d\nd.connect(database='w.duckdb')\n") == [2]
    assert warehouse_opens("from duckdb import connect as c\nc(path)\n") == [2]
    assert warehouse_opens("import sqlite3\nsqlite3.connect(path)\n") == []


def test_no_module_outside_the_warehouse_package_opens_a_duckdb_file():
    files = [p for root in SCANNED for p in root.rglob("*.py") if ALLOWED_DIR not in p.parents]
    assert len(files) > 50  # the scan really covers the package
    offenders = {str(p.relative_to(PROJECT_ROOT)): lines for p in files
                 if (lines := warehouse_opens(p.read_text()))}
    assert offenders == {}, f"open the warehouse with python_jobs.warehouse.connect, not duckdb.connect: {offenders}"
