# nba-props — the commands a person runs. Everything goes through uv and the lock file.
.PHONY: setup demo test lint bench docs report clean

UV ?= uv

setup:            ## install the locked environment (Python 3.11 + all deps), byte-compiled once
	$(UV) sync --frozen --python 3.11 --extra bigquery --compile-bytecode

demo: setup       ## the main job: ingest the bundled real data, run the daily pipeline, grade, report
	$(UV) run nba-props demo

test: setup       ## lint + the whole test suite (what CI runs)
	$(UV) run ruff check python_jobs flows tests
	$(UV) run sqlfluff lint models macros tests snapshots --processes 2
	$(UV) run pytest -q -n 2 --dist loadfile

lint:
	$(UV) run ruff check python_jobs flows tests
	$(UV) run sqlfluff lint models macros tests snapshots --processes 2

bench: setup      ## speed and memory figures -> bench/results.json
	$(UV) run python -m python_jobs.bench --output bench/results.json

docs: setup       ## dbt docs site (offline, self-contained) -> warehouse/dbt_target/index.html
	$(UV) run nba-props dbt docs generate --static

clean:
	rm -rf warehouse/* bench/work target
