#!/usr/bin/env bash
# Installs the local BigQuery emulator (bqemulator, DuckDB-backed) into its OWN virtual
# environment: it needs duckdb 1.5.5 while the project uses duckdb 2.0. Idempotent: a second run
# with the same pins does nothing. Works offline afterwards: DuckDB's `spatial` extension, which
# the emulator would otherwise download at start, is imported once from a PyPI wheel.
#
#   bash .ci/bq-emulator.sh            # installs under ${NBA_PROPS_BQEMU_DIR:-$HOME/.cache/nba-props/bqemu}
#   $DIR/venv/bin/bqemulator ...       # run it with HOME=$DIR (where the extension lives)
#
# Tests start it themselves (tests/python/bigquery/emulator.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="$here/bq-emulator-requirements.txt"
dir="${NBA_PROPS_BQEMU_DIR:-$HOME/.cache/nba-props/bqemu}"
venv="$dir/venv"
marker="$dir/installed.sha256"
export PATH="$HOME/.local/bin:$PATH"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/bqemulator" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then
    echo "bq-emulator: already installed in $venv"
    exit 0
fi

mkdir -p "$dir"
rm -rf "$venv" "$marker"
if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python 3.11 "$venv"
    uv pip install --quiet --python "$venv/bin/python" -r "$requirements"
else
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
fi

# the spatial extension, offline, where the emulator's DuckDB looks for it ($HOME/.duckdb)
HOME="$dir" "$venv/bin/python" -c \
    "from duckdb_extensions import import_extension; import_extension('spatial')"
HOME="$dir" "$venv/bin/python" -c \
    "import duckdb; duckdb.connect().execute('LOAD spatial')"

echo "$want" > "$marker"
echo "bq-emulator: installed bqemulator $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("bqemulator"))') in $venv"
