"""The desired state keeps what planning needs of each manifest, not the manifest models."""

from __future__ import annotations

import gc

from pydantic import BaseModel

from reconciler.desired import read_desired
from reconciler.manifest.models import MANIFEST_MODELS
from tests.helpers import EXAMPLES
from tests.plan.simulate import ENVIRON


def test_desired_workflows_carry_the_fields_planning_reads() -> None:
    desired = {d.name: d for d in read_desired([EXAMPLES], instance="default", environ=ENVIRON)}
    assert desired, "the examples compile"
    for item in desired.values():
        assert item.kind in MANIFEST_MODELS
        assert item.file.endswith((".yaml", ".yml"))
        assert item.compiled.name
        assert item.run_policy in {"on-change", "always", "never"}
    # Fields that the examples set, read through to the desired workflow.
    assert any(item.depends_on for item in desired.values())
    assert all(dependency in desired for item in desired.values() for dependency in item.depends_on)


def test_no_manifest_model_outlives_compiling() -> None:
    """At 10,000 manifests their models are about 50 MB: read_desired must not keep any."""
    gc.collect()
    before = _manifest_models()
    desired = read_desired([EXAMPLES], instance="default", environ=ENVIRON)
    gc.collect()
    assert desired
    assert _manifest_models() == before


def _manifest_models() -> int:
    return sum(
        1 for o in gc.get_objects() if isinstance(o, BaseModel) and type(o) in MANIFEST_MODELS.values()
    )
