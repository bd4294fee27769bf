"""config/ops.yml: the tiered waits must be reachable inside the land step's timeout (issue #11.8).

The land step (phase ``phase1``) runs the whole tiered source wait; with a 1,800 s timeout the
1-hour and 2-hour tiers of the wait could never be reached in live mode. Loading a config whose
tiers or give-up point lie beyond the land timeout fails with one clear line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from python_jobs.errors import ConfigurationError
from python_jobs.ops.config import DEFAULT_PATH, load_ops_config

pytestmark = pytest.mark.timeout(60)


def _write(tmp_path: Path, **changes) -> Path:
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    for dotted, value in changes.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    path = tmp_path / "ops.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_shipped_config_reaches_every_tier_before_the_land_timeout():
    cfg = load_ops_config()
    land = cfg.phase_timeouts_seconds["phase1"]
    sw = cfg.source_wait
    # recomputed here from the YAML's own numbers: each tier, the give-up point and one more poll
    assert all(t.after_minutes * 60 < land for t in sw.tiers)
    assert (sw.give_up_after_minutes + sw.poll_interval_minutes) * 60 <= land
    # the lock outlives the longest step (it is refreshed between steps only)
    assert cfg.lock.ttl_minutes * 60 > max(cfg.phase_timeouts_seconds.values())


def test_the_old_1800_s_land_timeout_is_rejected_with_a_clear_message(tmp_path):
    path = _write(tmp_path, **{"phase_timeouts_seconds.phase1": 1800})
    with pytest.raises(ConfigurationError) as info:
        load_ops_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert "phase1" in message and "1800" in message and "60 min" in message
    assert str(path) in message


def test_a_tier_after_the_give_up_point_is_rejected(tmp_path):
    path = _write(tmp_path, **{"source_wait.tiers": [{"after_minutes": 60, "min_sources": 4},
                                                      {"after_minutes": 300, "min_sources": 3}]})
    with pytest.raises(ConfigurationError, match="tier after 300 min .* give_up_after_minutes 240"):
        load_ops_config(path)


def test_a_lock_ttl_shorter_than_a_step_timeout_is_rejected(tmp_path):
    path = _write(tmp_path, **{"lock.ttl_minutes": 30})
    with pytest.raises(ConfigurationError, match="ttl_minutes 30"):
        load_ops_config(path)
