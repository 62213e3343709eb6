"""Workflow runs: their phase is a pure function of their timestamps and the clock.

A run is Pending for ``pending_seconds``, Running until ``run_seconds`` after submission, then ends
in its predetermined outcome (Succeeded, or Failed for the configured fraction of runs). A stop
ends it in Failed at the moment of the stop. Nothing runs in the background.

An import run (asset import, lineage builder) is carried out when it is submitted
(imports/run.py): its outcome is the import's, and once final it shows the import's
``status.outputs`` and, when it failed, its ``status.message``. While the import is being carried
out (``IMPORTING``, for the length of the request that submits it) it is never final.
"""

from __future__ import annotations

import dataclasses
import random
import string
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.clock import format_timestamp

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
PHASE_LABEL = "workflows.argoproj.io/phase"
CREATOR_LABEL = "workflows.argoproj.io/creator"
TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"
COMPLETED_LABEL = "workflows.argoproj.io/completed"
STOP_MESSAGE = "Stopped with strategy 'Stop'"
FAILED_MESSAGE = "child 'run' failed"
IMPORTING = "Importing"  # the outcome of a run whose import has not been recorded yet
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def seeded_rng(seed: int, *parts: object) -> random.Random:
    """A generator determined by the seed and ``parts`` (string seeding is stable across processes)."""
    return random.Random("/".join([str(seed), *map(str, parts)]))  # noqa: S311 - reproducible, not secret


def seeded_uuid(seed: int, *parts: object) -> str:
    return str(uuid.UUID(int=seeded_rng(seed, "uuid", *parts).getrandbits(128), version=4))


def run_name(template: str, seed: int, serial: int, attempt: int) -> str:
    """``<template>-<5 lowercase alphanumerics>``, as Argo's generateName makes them."""
    rng = seeded_rng(seed, "run", template, serial, attempt)
    return f"{template}-{''.join(rng.choice(_SUFFIX_ALPHABET) for _ in range(5))}"


def decide_outcome(seed: int, name: str, failure_rate: float) -> str:
    if failure_rate <= 0:
        return SUCCEEDED
    return FAILED if seeded_rng(seed, "outcome", name).random() < failure_rate else SUCCEEDED


@dataclass(frozen=True)
class RunEntry:
    """One stored run. ``source`` holds the parts that never change; ``view`` adds the phase."""

    name: str
    template: str
    rv: int
    seq: int
    created_at: float
    pending_seconds: float
    run_seconds: float
    outcome: str
    stopped_at: float | None
    source: dict[str, Any]
    result: dict[str, Any] | None = None
    """An import's outcome (imports/run.py, ``Execution.stored``): ``outputs`` and ``message``."""

    def phase_at(self, now: float) -> tuple[str, float | None]:
        """The phase at ``now`` and, once final, when it ended."""
        end = self.created_at + self.run_seconds
        if self.stopped_at is not None and self.stopped_at < end and now >= self.stopped_at:
            return FAILED, self.stopped_at
        if now >= end and self.outcome != IMPORTING:
            return self.outcome, end
        if now < self.created_at + min(self.pending_seconds, self.run_seconds):
            return PENDING, None
        return RUNNING, None

    def finished_by(self, now: float) -> bool:
        return self.phase_at(now)[1] is not None

    def view(self, now: float, *, ignore_stop: bool = False) -> dict[str, Any]:
        """The ``_source`` of this run as seen at ``now``."""
        entry = self
        if ignore_stop and self.stopped_at is not None:
            entry = dataclasses.replace(self, stopped_at=None)
        phase, finished = entry.phase_at(now)
        metadata = dict(self.source["metadata"])
        labels = dict(metadata.get("labels") or {})
        labels[PHASE_LABEL] = phase
        labels[COMPLETED_LABEL] = "true" if finished is not None else "false"
        metadata["labels"] = labels
        status = dict(self.source.get("status") or {})
        status["phase"] = phase
        status["startedAt"] = format_timestamp(self.created_at)
        status["finishedAt"] = None if finished is None else format_timestamp(finished)
        status["progress"] = "1/1" if phase == SUCCEEDED else ("0/1" if phase != PENDING else "0/0")
        if finished is not None:
            status["resourcesDuration"] = {"cpu": max(int(finished - self.created_at), 0), "memory": 0}
            if self.result is not None and self.result.get("outputs"):
                status["outputs"] = self.result["outputs"]
        if phase == FAILED:
            stopped = entry.stopped_at is not None and finished == entry.stopped_at
            message = (self.result or {}).get("message") or FAILED_MESSAGE
            status["message"] = STOP_MESSAGE if stopped else message
        return {**self.source, "metadata": metadata, "status": status}
