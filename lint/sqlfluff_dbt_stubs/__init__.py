"""Stand-ins for dbt's Jinja context, for sqlfluff's *jinja* templater only.

sqlfluff's jinja templater (fast, needs no database) knows ``ref``, ``source``, ``config``,
``var``, ``is_incremental`` and ``this`` (``apply_dbt_builtins``) but not the ``dbt.*``
cross-database macros, ``adapter.dispatch``, ``exceptions``, ``target``... This package
(``library_path`` in ``.sqlfluff``) exposes each as a module whose functions render a plausible
SQL expression (``dbt.hash(x)`` -> ``md5(x)``), so every model and macro templates and the
*surrounding* SQL gets linted. Nothing here is used by dbt itself.
"""
