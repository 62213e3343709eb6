"""The comparison view: what it keeps, and that building it never touches the workflow it reads."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.normalise import workflow_view

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcd"), inner, max_size=3),
    max_leaves=12,
)
parameter = st.fixed_dictionaries({"name": st.sampled_from(["x", "y", "cloud_source"]), "value": scalars})
task = st.fixed_dictionaries(
    {"name": st.just("run")},
    optional={
        "arguments": st.fixed_dictionaries(
            {}, optional={"parameters": st.lists(parameter, max_size=3), "artifacts": json_like}
        ),
        "templateRef": json_like,
    },
)
template = st.fixed_dictionaries(
    {"name": st.just("main")},
    optional={
        "dag": st.fixed_dictionaries({}, optional={"tasks": st.lists(task, max_size=2)}),
        "x": json_like,
    },
)
specs = st.fixed_dictionaries(
    {}, optional={"templates": st.lists(template, max_size=2), "entrypoint": json_like}
)


def reference_shape(spec: dict[str, Any]) -> Any:
    """The straightforward way: copy everything, take the parameters out, then drop empties."""
    shape = copy.deepcopy(spec)
    for template in shape.get("templates") or []:
        for task in (template.get("dag") or {}).get("tasks") or []:
            (task.get("arguments") or {}).pop("parameters", None)

    def without_empty(value: Any) -> Any:
        if isinstance(value, dict):
            kept = {k: without_empty(v) for k, v in value.items()}
            return {k: v for k, v in kept.items() if v not in ({}, [], None)}
        if isinstance(value, list):
            return [without_empty(v) for v in value]
        return value

    return without_empty(shape)


@settings(max_examples=300, deadline=None)
@given(
    spec=specs,
    labels=st.dictionaries(st.sampled_from(["team", "workflows.argoproj.io/x"]), st.text(max_size=2)),
)
def test_the_view_matches_the_reference_and_leaves_its_input_alone(
    spec: dict[str, Any], labels: dict[str, str]
) -> None:
    metadata = {"labels": labels, "annotations": {}}
    before = copy.deepcopy((metadata, spec))

    view = workflow_view(metadata, spec)

    assert (metadata, spec) == before
    assert view["spec"] == reference_shape(spec)
    assert view["labels"] == {
        k: v for k, v in sorted(labels.items()) if not k.startswith("workflows.argoproj.io/")
    }


def test_parts_without_empties_are_shared_not_copied() -> None:
    ref = {"name": "csa-asset-import", "template": "main"}
    spec = {"templates": [{"name": "main", "dag": {"tasks": [{"name": "run", "templateRef": ref}]}}], "x": {}}
    view = workflow_view({}, spec)
    assert view["spec"]["templates"][0]["dag"]["tasks"][0]["templateRef"] is ref
    assert "x" not in view["spec"]
