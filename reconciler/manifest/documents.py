"""YAML text to plain data, remembering where each value stands; every ruamel.yaml tweak lives here.

Documents are composed into nodes with ruamel.yaml (not constructed) so that every value keeps
its line and column, duplicate keys are caught, and scalars are typed by YAML 1.2 rules except
that timestamps stay strings (``token: 2026-11-21`` is a string, not a date). Alias expansion is
bounded and recursive aliases are refused. Nesting is bounded too: in the text before composing
(reconciler/manifest/screen.py), and through aliases while building.

Loading 10,000 manifests is benchmarked (``make bench``, benchmarks/scale.py), and most of a cold
load is spent here. What each speed-up buys: a cold ``load_manifests`` of benchmarks/scale.py's
10,000 manifests in a fresh process, measured with that one speed-up turned off (median of 3 on a
2-core machine, November 2026; 1.31 s with all of them), then the figure of the
commit that made it:

- libyaml's C composer (ruamel.yaml.clib: the same nodes and marks) and one ``YAML`` instance
  for a whole load instead of one per file: the pure-Python composer takes 13.9 s; loading got
  2.8x faster (commit a6d852c).
- ``_OneVersionResolver`` keeps the YAML version and its implicit resolvers for the load instead
  of working them out per scalar: 2.88 s with ruamel's own resolver (which also turns off the
  next item); the version alone was a third of the load time (4b47337).
- Each plain scalar's tag is resolved once per distinct text: 1.62 s without. Each typed scalar
  is constructed once per (tag, text): 1.45 s without. Scalars skip the alias-cycle check.
  Together 3.3 s -> 2.2 s (30879f2). tests/manifest/test_properties.py checks the result types
  every scalar as ruamel's pure-Python loader does, on first sight and after.
- ``DocumentBuilder(track=False)`` builds a document without noting positions; the loader builds
  it again with them only when it has a problem: 1.79 s when every document notes them
  (``exact_positions=True``); 470,000 positions fewer, peak memory of the load 289 -> 204 MB
  (5cbc444).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from reconciler.errors import Problem
from reconciler.manifest.positions import NAME, FieldPath, Position, format_path
from reconciler.manifest.screen import MAX_DEPTH, character_problems, depth_problem

# Alias expansion beyond this many nodes is refused ("billion laughs").
MAX_NODES = 100_000


class _OneVersionResolver(VersionedResolver):
    """ruamel works out the YAML version again for every scalar it resolves (with the C parser, by
    raising and catching AttributeError: a third of the load time of 10,000 manifests). The C
    parser ignores %YAML directives, so the answer cannot change within a load: keep the first."""

    _version: Any = None
    _resolvers: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tags: dict[str, Any] = {}

    @property
    def processing_version(self) -> Any:
        if self._version is None:
            self._version = VersionedResolver.processing_version.fget(self)  # type: ignore[attr-defined]
        return self._version

    @property
    def versioned_resolver(self) -> Any:
        # The implicit resolvers of that one version, looked up once instead of per scalar.
        if self._resolvers is None:
            self._resolvers = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
        return self._resolvers

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # A plain scalar's tag depends on its text alone, and manifests repeat the same keys and
        # values: resolve each text once per load. The shared Tag also decodes its name once
        # (ruamel makes a new Tag per scalar and decodes each, character by character).
        if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        tag = self._tags.get(value)
        if tag is None:
            if len(self._tags) >= MAX_NODES:
                self._tags.clear()
            tag = self._tags[value] = super().resolve(kind, value, implicit)
        return tag


def new_yaml() -> YAML:
    """A composer for a whole load: libyaml's C composer when ruamel.yaml.clib is installed.
    Building one is not cheap, so one instance serves every file of a load."""
    yaml = YAML(typ="safe")
    if not yaml.pure:
        yaml.Resolver = _OneVersionResolver
    return yaml


def compose(text: str, file: str, yaml: YAML) -> tuple[list[Node | None], list[Problem]]:
    """The node of each document of ``text`` (None for an empty one), or the problems that stop
    YAML reading it; never raises for bad input. A text nested too deeply is not composed at all
    (reconciler/manifest/screen.py says why)."""
    too_deep = depth_problem(text, file, yaml)
    if too_deep is not None:
        return [], [too_deep]
    try:
        return list(yaml.compose_all(text)), []
    except ReaderError as exc:
        # ruamel names a character by its offset in the text; say where each one stands.
        return [], character_problems(text, file) or [Problem(file, 0, 0, "", f"YAML error: {exc.reason}")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        return [], [Problem(file, line, column, "", f"YAML syntax error: {reason}")]
    except YAMLError as exc:
        return [], [Problem(file, 0, 0, "", f"YAML error: {exc}")]
    except RecursionError:  # ruamel's pure-Python composer, should the bound ever be wrong
        return [], [Problem(file, 0, 0, "", f"YAML is nested more than {MAX_DEPTH} collections deep")]


# -- YAML nodes to plain data, remembering positions --


def _tag(node: Node) -> str:
    # ``node.tag`` formats a new string each time; the Tag's resolved text is kept on it.
    tag = node.ctag
    return (tag.trval or "") if tag is not None else ""


@dataclass
class DocumentBuilder:
    """One document's node as plain data (dicts, lists, scalars), with the problems met on the
    way (duplicate keys, non-string keys, bad merges, recursive or exploding aliases)."""

    file: str
    document: int
    _scalar_yaml: YAML  # constructs scalars by YAML 1.2 rules
    track: bool = True  # remember where each value and key stands (for messages)
    values: dict[FieldPath, Position] = field(default_factory=dict)
    keys: dict[FieldPath, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _nodes: int = 0

    def build(self, node: Node) -> Any:
        try:
            return self._build(node, (), frozenset())
        except _TooLarge:
            self.problems.append(
                Problem(self.file, 1, 1, "", f"document expands to more than {MAX_NODES} nodes")
            )
            return None

    def _build(self, node: Node, path: FieldPath, active: frozenset[int]) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge
        if self.track:
            self.values.setdefault(path, position_of(node))
        if isinstance(node, ScalarNode):  # most nodes, and never part of a cycle
            return self._scalar(node, path)
        if id(node) in active:
            self._add(path, "recursive YAML alias")
            return None
        if len(active) >= MAX_DEPTH:
            # The text was not this deep (compose checked it): aliases and merge keys nest it.
            # The field path would be MAX_DEPTH parts long; the position says where.
            where = self.values.get(path, _NOWHERE)
            self.problems.append(
                Problem(
                    self.file,
                    where.line,
                    where.column,
                    "",
                    f"YAML is nested more than {MAX_DEPTH} collections deep (through aliases)",
                )
            )
            return None
        active = active | {id(node)}
        if isinstance(node, MappingNode):
            return self._mapping(node, path, active)
        if isinstance(node, SequenceNode):
            return [self._build(item, (*path, i), active) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: FieldPath, active: frozenset[int]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            key_tag = _tag(key_node)
            if key_tag == "tag:yaml.org,2002:merge":
                merged = self._build(value_node, path, active)
                sources = merged if isinstance(merged, list) else [merged]
                for source in sources:
                    if isinstance(source, dict):
                        for key, value in source.items():
                            result.setdefault(key, value)
                    else:
                        self._add(path, "a merge key (<<) takes a mapping or a list of mappings")
                continue
            key_position = position_of(key_node) if self.track else _NOWHERE
            if not isinstance(key_node, ScalarNode) or key_tag != "tag:yaml.org,2002:str":
                self.problems.append(
                    Problem(
                        self.file,
                        key_position.line,
                        key_position.column,
                        format_path(path),
                        "mapping keys must be plain strings",
                    )
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                first = seen[key]
                self.problems.append(
                    Problem(
                        self.file,
                        key_position.line,
                        key_position.column,
                        format_path(child),
                        f"duplicate key {key!r} (first at line {first.line}, column {first.column})",
                    )
                )
                continue
            seen[key] = key_position
            if self.track:
                self.keys[child] = key_position
            result[key] = self._build(value_node, child, active)
        return result

    def _scalar(self, node: Node, path: FieldPath) -> Any:
        tag = _tag(node)
        if tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)
        if tag == "tag:yaml.org,2002:str":
            return str(node.value)
        known = _CONSTRUCTED.get((tag, node.value), _UNSEEN)
        if known is not _UNSEEN:
            return known
        try:
            value = self._scalar_yaml.constructor.construct_object(node, deep=True)
        except (YAMLError, ValueError, TypeError) as exc:
            self._add(path, f"cannot read value: {exc}")
            return None
        # ruamel may return subclasses (ScalarFloat, ...); the models want plain types.
        plain: bool | int | float | str | None
        if isinstance(value, bool) or value is None:
            plain = value
        elif isinstance(value, int):
            plain = int(value)
        elif isinstance(value, float):
            plain = float(value)
        elif isinstance(value, str):
            plain = str(value)
        else:
            self._add(path, f"unsupported YAML type {tag}")
            return None
        if len(_CONSTRUCTED) < _MAX_CONSTRUCTED:
            _CONSTRUCTED[tag, node.value] = plain
        return plain

    def _add(self, path: FieldPath, message: str) -> None:
        where = self.values.get(path, Position(1, 1))
        self.problems.append(Problem(self.file, where.line, where.column, format_path(path), message))


class _TooLarge(Exception):
    pass


# Typed scalars by (tag, text), constructed once: manifests repeat the same few (true, 20, ...),
# and ruamel's constructor is slow. Only immutable values (bool, int, float, str, None) are kept.
_CONSTRUCTED: dict[tuple[str, str], Any] = {}
_MAX_CONSTRUCTED = 10_000
_UNSEEN = object()


_NOWHERE = Position(0, 0)


def position_of(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def name_position(document: Node) -> Position | None:
    """Where ``metadata.name`` stands, if written out in place (not merged in with ``<<``)."""
    node: Node | None = document
    for key in NAME:
        if not isinstance(node, MappingNode):
            return None
        node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
    return None if node is None else position_of(node)
