"""dbt-duckdb plugin of the ``dev`` and ``ci`` profiles: ATTACH the warehouse file when dbt connects.

Why not the profile's own ``attach: [{path: ...}]``: dbt keys its saved parse
(``partial_parse.msgpack``) on every value of the profile's connection info, and for dbt-duckdb that
includes ``attach`` (with its path). A path in the profile made every new warehouse file pay dbt's
full parse (~3.5 s), even with the same project, target and catalog. The file is therefore resolved
here, when dbt opens its connection, from the environment with the CLI's rule
(``Settings.duckdb_file``: ``NBA_PROPS_DUCKDB_PATH``, else ``NBA_PROPS_WAREHOUSE_DIR``/default
file, else the dbt project's ``warehouse/``/default file), and the profile holds only values that
are the same for every file of one catalog name: the catalog (the file's stem, which dbt writes
into every relation name it parses), the plugin's config (default file name, row group size) and
the settings.

The file is attached under the profile's ``database`` with the row group size of the plugin's
config, by the same function Python uses (``duckdb_engine.attach_warehouse_file``); the profile's
``attach`` entry that names the catalog for dbt-duckdb runs after this (``ATTACH IF NOT EXISTS``)
and does nothing. A file whose stem is not the profile's catalog is refused (one clear error).
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from python_jobs.warehouse.duckdb_engine import attach_warehouse_file, catalog_name


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        try:
            self.default_file = str(plugin_config["default_file"])
            self.rows_per_group = int(plugin_config["row_group_size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DbtRuntimeError(f"profiles.yml: plugin {__name__} needs config default_file and "
                                  f"row_group_size ({exc!r})") from exc

    def warehouse_path(self) -> str:
        """The warehouse file of this connection: the CLI's rule, read from the environment now,
        for the project dbt runs (its ``warehouse/`` unless the environment names another)."""
        from pathlib import Path

        from dbt.flags import get_flags

        from python_jobs.config import Settings

        project_dir = getattr(get_flags(), "PROJECT_DIR", None) or Path.cwd()
        return str(Settings(home=Path(project_dir).resolve()).duckdb_file(self.default_file))

    def configure_connection(self, conn: Any) -> None:
        from pathlib import Path

        path = self.warehouse_path()
        catalog = self.creds.database if self.creds is not None else None
        if catalog_name(path) != catalog:
            raise DbtRuntimeError(
                f"the warehouse file {path} would be the catalog {catalog!r} of the profile, not "
                f"{catalog_name(path)!r}: set NBA_PROPS_DUCKDB_PATH in the environment (profiles.yml "
                "reads the catalog from there, not from .env)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        attach_warehouse_file(conn, path, rows_per_group=self.rows_per_group)
