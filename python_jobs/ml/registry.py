"""The model registry: artifacts under ``settings.models_dir/<system_id>/<version>/`` plus an index.

Each version directory holds the system's files and ``metadata.json`` (training window, feature
list and hash, hyper-parameters, validation MAE/RMSE, residual spread, row counts, created_at,
component versions for ensembles). ``models_dir/registry.json`` records every version and the
current one per system. Writes are atomic (temp file + rename) under a file lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from python_jobs.errors import PermanentError
from python_jobs.files import atomic_write_text
from python_jobs.ml.features import FeatureSpec
from python_jobs.ml.metrics import MarketCalibrator
from python_jobs.ml.params import MlParams
from python_jobs.ml.predict import LoadedModel
from python_jobs.ml.systems import FitContext, Model, get_system, resolve_order


class ModelNotFoundError(PermanentError):
    """No trained model is registered for a system (run `nba-props train`)."""


class ModelFromTheFutureError(PermanentError):
    """The registered model was trained on games on/after the date to score (leakage)."""


class ModelSpecMismatchError(PermanentError):
    """A registered model was trained on another feature list than the current store spec."""


@dataclass
class RegisteredModel:
    system_id: str
    version: str
    directory: Path
    metadata: dict[str, Any]


class ModelRegistry:
    def __init__(self, models_dir: Path):
        self.root = Path(models_dir)
        self.index_path = self.root / "registry.json"
        self._lock = FileLock(str(self.root / ".registry.lock"))

    # -- index -------------------------------------------------------------------------------
    def index(self) -> dict[str, Any]:
        if not self.index_path.exists():
            return {"systems": {}}
        return json.loads(self.index_path.read_text())

    def _write_index(self, index: dict[str, Any]) -> None:
        atomic_write_text(self.index_path, json.dumps(index, indent=2, sort_keys=True))

    # -- write -------------------------------------------------------------------------------
    def register(self, model: Model, metadata: dict[str, Any], *, make_current: bool = True) -> RegisteredModel:
        system_id = model.system_id
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(json.dumps(metadata, sort_keys=True, default=str).encode()).hexdigest()[:8]
        stamp = datetime.fromisoformat(str(metadata["created_at"])).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        with self._lock:
            base = f"{stamp}-{digest}"
            version, n = base, 1
            while (self.root / system_id / version).exists():
                n += 1
                version = f"{base}-{n}"
            directory = self.root / system_id / version
            tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=self.root))
            model.save(tmp)
            meta = {**metadata, "system_id": system_id, "version": version}
            (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
            directory.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, directory)
            index = self.index()
            entry = index["systems"].setdefault(system_id, {"current": None, "versions": []})
            entry["versions"].append(version)
            if make_current:
                entry["current"] = version
            self._write_index(index)
        return RegisteredModel(system_id, version, directory, meta)

    # -- read --------------------------------------------------------------------------------
    def get(self, system_id: str, version: str | None = None) -> RegisteredModel:
        entry = self.index()["systems"].get(system_id)
        version = version or (entry or {}).get("current")
        if not version:
            raise ModelNotFoundError(
                f"no trained model for {system_id!r} in {self.root}; run `nba-props train` first"
            )
        directory = self.root / system_id / version
        meta_path = directory / "metadata.json"
        if not meta_path.exists():
            raise ModelNotFoundError(f"{system_id} version {version}: {meta_path} is missing")
        return RegisteredModel(system_id, version, directory, json.loads(meta_path.read_text()))

    def load(self, system_ids: list[str] | None, spec: FeatureSpec, params: MlParams,
             threads: int = 1) -> dict[str, LoadedModel]:
        """Load the current version of each system (and the exact component versions it was
        built on). Refuses a model whose feature list/hash differs from ``spec``."""
        loaded: dict[str, LoadedModel] = {}
        pinned: dict[str, str] = {}
        for sid in reversed(resolve_order(system_ids)):  # dependants first: they pin components
            if sid in pinned:
                continue
            reg = self.get(sid)
            for dep, ver in (reg.metadata.get("component_versions") or {}).items():
                pinned.setdefault(dep, ver)
        for sid in resolve_order(system_ids):
            reg = self.get(sid, pinned.get(sid))
            _check_spec(reg, spec)
            system = get_system(sid)
            context = FitContext(spec=spec, params=params, threads=threads,
                                 deps={d: loaded[d].model for d in system.depends_on})
            model = system.load(reg.directory, context)
            window = reg.metadata.get("training_window") or {}
            loaded[sid] = LoadedModel(sid, reg.version, model, float(reg.metadata["residual_std"]),
                                      list(reg.metadata.get("std_buckets") or []),
                                      trained_through=window.get("validation_end") or window.get("train_end"),
                                      calibrator=MarketCalibrator.from_dict(reg.metadata.get("calibration")))
        wanted = set(system_ids) if system_ids else set(loaded)
        return {k: v for k, v in loaded.items() if k in wanted}


def _check_spec(reg: RegisteredModel, spec: FeatureSpec) -> None:
    trained = list(reg.metadata.get("features") or [])
    if reg.metadata.get("feature_hash") != spec.hash or trained != spec.names:
        added = [n for n in spec.names if n not in trained]
        removed = [n for n in trained if n not in spec.names]
        raise ModelSpecMismatchError(
            f"model {reg.system_id} {reg.version} was trained on feature spec {reg.metadata.get('feature_hash')} "
            f"but the store's spec is now {spec.hash} (added: {added or 'none'}; removed: {removed or 'none'}; "
            f"order/dtype/default changes count too). Retrain with `nba-props train`."
        )

