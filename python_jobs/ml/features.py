"""The feature spec: the ``ml_features`` var of ``dbt_project.yml`` is the only list of features.

The features engineer owns the var's content; the ML code reads it here and never hard-codes a
feature name. ``FeatureSpec.hash`` fingerprints the list (names, dtypes, defaults, order) so that a
model trained on another list is refused at scoring time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from python_jobs.config import PROJECT_ROOT

NUMERIC_DTYPES = frozenset({"double", "float", "integer", "int", "bigint", "number", "numeric", "boolean", "bool"})
CATEGORICAL_DTYPES = frozenset({"varchar", "string", "text", "category", "categorical"})


class FeatureSpecError(ValueError):
    """The ``ml_features`` var is missing or malformed."""


@dataclass(frozen=True)
class FeatureDef:
    name: str
    dtype: str
    default: Any = None
    source_model: str | None = None
    description: str = ""
    min_value: float | None = None
    max_value: float | None = None

    @property
    def is_categorical(self) -> bool:
        return self.dtype in CATEGORICAL_DTYPES


@dataclass(frozen=True)
class FeatureSpec:
    features: tuple[FeatureDef, ...]
    source: str = "dbt_project.yml:vars.ml_features"
    _index: dict[str, FeatureDef] = field(default_factory=dict, compare=False, repr=False)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical_names(self) -> list[str]:
        return [f.name for f in self.features if f.is_categorical]

    @property
    def hash(self) -> str:
        canonical = json.dumps(
            [[f.name, f.dtype, f.default] for f in self.features], sort_keys=True, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def get(self, name: str) -> FeatureDef:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(f"feature {name!r} is not in the spec ({', '.join(self.names)})")


def load_project_vars(home: Path | None = None) -> dict[str, Any]:
    """The ``vars:`` block of ``dbt_project.yml`` (defaults as committed; CLI --vars do not apply)."""
    path = Path(home or PROJECT_ROOT) / "dbt_project.yml"
    with path.open() as fh:
        project = yaml.safe_load(fh)
    return dict(project.get("vars") or {})


def parse_feature_spec(entries: Any, source: str = "ml_features") -> FeatureSpec:
    """Validate a list of ``{name, dtype, default, source_model, description}`` mappings."""
    if not isinstance(entries, list) or not entries:
        raise FeatureSpecError(f"{source} must be a non-empty list of feature mappings, got {entries!r}")
    features: list[FeatureDef] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry or "dtype" not in entry:
            raise FeatureSpecError(f"{source}[{i}] needs at least 'name' and 'dtype': {entry!r}")
        name = str(entry["name"])
        dtype = str(entry["dtype"]).lower()
        if not name.isidentifier() or name.lower() != name:
            raise FeatureSpecError(f"{source}[{i}]: feature name {name!r} must be a lowercase identifier")
        if name in seen:
            raise FeatureSpecError(f"{source}: feature {name!r} is listed twice")
        if dtype not in NUMERIC_DTYPES | CATEGORICAL_DTYPES:
            raise FeatureSpecError(f"{source}[{i}] {name}: unknown dtype {dtype!r}")
        seen.add(name)
        features.append(
            FeatureDef(
                name=name,
                dtype=dtype,
                default=entry.get("default"),
                source_model=entry.get("source_model"),
                description=str(entry.get("description") or ""),
                min_value=_opt_float(entry.get("min")),
                max_value=_opt_float(entry.get("max")),
            )
        )
    return FeatureSpec(features=tuple(features), source=source)


def load_feature_spec(home: Path | None = None) -> FeatureSpec:
    """Read the feature list from ``dbt_project.yml`` (var ``ml_features``)."""
    vars_ = load_project_vars(home)
    if "ml_features" not in vars_:
        raise FeatureSpecError(
            "dbt_project.yml has no var 'ml_features': the feature store's feature list is not defined yet"
        )
    return parse_feature_spec(vars_["ml_features"], "dbt_project.yml:vars.ml_features")


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _plain(value: Any) -> Any:
    """A JSON value for one feature cell (NaN/NA -> None, numpy scalars -> Python)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if not isinstance(value, bool | int | float | str):
        try:
            import pandas as pd

            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        return str(value)
    return value


def feature_snapshot(row: dict[str, Any], names: list[str]) -> str:
    """The feature values a row was scored with, as canonical JSON (``names`` in spec order, NaN -> null):
    stored with each prediction (``raw.prediction_scores.feature_values_json``) and recomputed by
    ``nba-props trace`` from today's feature row to show what changed since scoring."""
    return json.dumps({name: _plain(row.get(name)) for name in names}, separators=(",", ":"), default=str)


def snapshot_hash(snapshot: str) -> str:
    """Fingerprint of a ``feature_snapshot`` (sha256 hex)."""
    return hashlib.sha256(snapshot.encode()).hexdigest()
