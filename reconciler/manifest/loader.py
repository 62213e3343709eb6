"""Read manifests from files and directories into validated models, or report every problem.

YAML is composed into nodes with ruamel.yaml (not constructed) so that every value keeps its
line and column, duplicate keys are caught, and scalars are typed by YAML 1.2 rules except that
timestamps stay strings (``token: 2026-11-21`` is a string, not a date). Validation errors from
pydantic are translated into one sentence each, pinned to ``file:line:column`` and a field path,
with the nearest valid key or value suggested for a typo. Nothing here touches the network.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from reconciler.collector import collector_paused
from reconciler.errors import ManifestError, Problem
from reconciler.manifest.cache import CachedDocument, ManifestCache
from reconciler.manifest.models import (
    API_VERSION,
    KINDS,
    MANIFEST_MODELS,
    SECRET_FIELDS,
    AssetImportManifest,
    LineageBuilderManifest,
)

FieldPath = tuple[str | int, ...]
_NAME: FieldPath = ("metadata", "name")
AnyManifest = AssetImportManifest | LineageBuilderManifest
MANIFEST_SUFFIXES = (".yaml", ".yml")
T = TypeVar("T")
# Alias expansion beyond this many nodes is refused ("billion laughs").
_MAX_NODES = 100_000


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each value (and each mapping key) of one YAML document stands in its file."""

    file: str
    document: int  # 0-based index of the document in its file
    values: Mapping[FieldPath, Position]
    keys: Mapping[FieldPath, Position]

    def position(self, path: FieldPath, *, key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor that exists in the file."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return Position(1, 1)

    @property
    def name_location(self) -> str:
        """``file:line`` of the manifest's name, for messages that point at another manifest."""
        return f"{self.file}:{self.position(_NAME).line}"

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> Problem:
        where = self.position(path, key=key)
        return Problem(self.file, where.line, where.column, format_path(path), message)


@dataclass(frozen=True, slots=True)
class LoadedManifest:
    """A valid manifest and where it came from."""

    manifest: AnyManifest
    source: SourceMap

    @property
    def name(self) -> str:
        return self.manifest.metadata.name

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @property
    def location(self) -> str:
        return self.source.name_location


def format_path(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def manifest_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories (recursively, skipping hidden ones) into manifest files."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in MANIFEST_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                problems.append(Problem(str(path), 0, 0, "", "no manifest files (*.yaml, *.yml)"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, 0, "", "no such file or directory"))
    return files, problems


def load_manifests(
    paths: Iterable[Path], *, cache: ManifestCache | None = None, exact_positions: bool = False
) -> tuple[LoadedManifest, ...]:
    """Load and validate every manifest under ``paths``; raise ManifestError with all problems.

    A valid manifest keeps one position, its name's: the full maps only serve error messages,
    and at 10,000 manifests they are tens of megabytes. ``exact_positions`` keeps them all (to
    pin a later problem, e.g. a missing variable, to its line). With a ``cache``, files whose
    bytes loaded cleanly before are read from it instead of parsed.
    """
    return tuple(load_manifests_as(paths, _itself, cache=cache, exact_positions=exact_positions))


def load_manifests_as(
    paths: Iterable[Path],
    convert: Callable[[LoadedManifest], T],
    *,
    cache: ManifestCache | None = None,
    exact_positions: bool = False,
) -> list[T]:
    """As ``load_manifests``, but each valid manifest is handed to ``convert`` as soon as it is
    read, and only what that returns is kept: a caller that compiles there holds one file's
    models at a time, not all of them (about 50 MB at 10,000 manifests). ``convert`` may run
    for manifests of a load that then fails."""
    paths = list(paths)
    with collector_paused():
        kept, problems = _load_files(
            paths, None if exact_positions else cache, convert, slim=not exact_positions
        )
        if problems and not exact_positions:
            # A problem that involves a valid manifest (a duplicate name, an unknown depends_on)
            # is found again with every position.
            kept, problems = _load_files(paths, None, convert, slim=False)
    if cache is not None and cache.misses:
        cache.prune()  # only when entries were added: most loads hit and pay nothing for it
    if problems:
        raise ManifestError(problems)
    return kept


def _itself(item: LoadedManifest) -> LoadedManifest:
    return item


@dataclass(frozen=True, slots=True)
class _Claim:
    """What the checks across manifests read of one: its name and where it stands, what it adopts
    and what it depends on (not the whole manifest, which ``convert`` may have let go)."""

    name: str
    source: SourceMap
    adopt: str | None
    depends_on: tuple[str, ...]

    @classmethod
    def of(cls, item: LoadedManifest) -> _Claim:
        spec = item.manifest.spec
        return cls(item.name, item.source, spec.adopt, tuple(spec.depends_on))


def _load_files(
    paths: Iterable[Path], cache: ManifestCache | None, convert: Callable[[LoadedManifest], T], *, slim: bool
) -> tuple[list[T], list[Problem]]:
    files, problems = manifest_files(paths)
    kept: list[T] = []
    claims: list[_Claim] = []
    yaml: YAML | None = None  # made at the first file to parse: making one is not cheap
    for file in files:
        try:
            content = file.read_bytes()
            text = content.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), 0, 0, "", f"cannot read: {exc}"))
            continue
        cached = cache.get(content) if cache is not None else None
        if cached is not None:
            file_manifests = [_from_cache(document, str(file)) for document in cached]
        else:
            yaml = yaml or _yaml()
            file_manifests, file_problems = load_text(text, str(file), yaml=yaml, exact_positions=not slim)
            problems.extend(file_problems)
            if cache is not None and not file_problems:
                cache.put(content, [_to_cache(item) for item in file_manifests])
        claims.extend(_Claim.of(item) for item in file_manifests)
        kept.extend(convert(item) for item in file_manifests)
    problems.extend(_cross_manifest_problems(claims))
    return kept, problems


def _to_cache(item: LoadedManifest) -> CachedDocument:
    where = item.source.position(_NAME)
    return CachedDocument(
        document=item.source.document, line=where.line, column=where.column, manifest=item.manifest
    )


def _from_cache(document: CachedDocument, file: str) -> LoadedManifest:
    return _kept(document.manifest, file, document.document, Position(document.line, document.column))


def _kept(manifest: AnyManifest, file: str, document: int, name: Position) -> LoadedManifest:
    """A valid manifest as kept: with the position of its name only."""
    return LoadedManifest(manifest, SourceMap(file, document, {_NAME: name}, {}))


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
            if len(self._tags) >= _MAX_NODES:
                self._tags.clear()
            tag = self._tags[value] = super().resolve(kind, value, implicit)
        return tag


def _yaml() -> YAML:
    # libyaml's C composer when ruamel.yaml.clib is installed; building one is not cheap, so one
    # instance serves every file of a load.
    yaml = YAML(typ="safe")
    if not yaml.pure:
        yaml.Resolver = _OneVersionResolver
    return yaml


def load_text(
    text: str, file: str, *, yaml: YAML | None = None, exact_positions: bool = True
) -> tuple[list[LoadedManifest], list[Problem]]:
    """Load every document of one YAML text; never raises for bad input.

    Without ``exact_positions``, a valid manifest keeps only the position of its name, and a
    document is first built without noting positions at all: only one with a problem is built
    again, position by position, to say where.
    """
    loaded: list[LoadedManifest] = []
    problems: list[Problem] = []
    yaml = yaml or _yaml()
    try:
        documents = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        return [], [Problem(file, line, column, "", f"YAML syntax error: {reason}")]
    except YAMLError as exc:
        return [], [Problem(file, 0, 0, "", f"YAML error: {exc}")]
    except RecursionError:
        return [], [Problem(file, 0, 0, "", "YAML is nested too deeply")]
    for index, node in enumerate(documents):
        if node is None:
            continue
        if not exact_positions:
            quick = _DocumentBuilder(file, index, yaml, track=False)
            manifest, _ = _validate(quick.build(node), SourceMap(file, index, {}, {}))
            where = _name_position(node) if manifest is not None and not quick.problems else None
            if manifest is not None and where is not None:
                loaded.append(_kept(manifest, file, index, where))
                continue
        builder = _DocumentBuilder(file, index, yaml)
        data = builder.build(node)
        source = SourceMap(file, index, builder.values, builder.keys)
        if data is None and builder.problems:
            problems.extend(builder.problems)
            continue
        # Validate even after structural problems, so one run reports everything it can.
        manifest, document_problems = _validate(data, source)
        found = sorted([*builder.problems, *document_problems], key=lambda p: (p.line, p.column))
        problems.extend(found)
        if manifest is not None and not found:
            loaded.append(LoadedManifest(manifest, source))
    return loaded, problems


# -- YAML nodes to plain data, remembering positions --


def _tag(node: Node) -> str:
    # ``node.tag`` formats a new string each time; the Tag's resolved text is kept on it.
    tag = node.ctag
    return (tag.trval or "") if tag is not None else ""


@dataclass
class _DocumentBuilder:
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
                Problem(self.file, 1, 1, "", f"document expands to more than {_MAX_NODES} nodes")
            )
            return None

    def _build(self, node: Node, path: FieldPath, active: frozenset[int]) -> Any:
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            raise _TooLarge
        if self.track:
            self.values.setdefault(path, _position(node))
        if isinstance(node, ScalarNode):  # most nodes, and never part of a cycle
            return self._scalar(node, path)
        if id(node) in active:
            self._add(path, "recursive YAML alias")
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
            key_position = _position(key_node) if self.track else _NOWHERE
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


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _name_position(document: Node) -> Position | None:
    """Where ``metadata.name`` stands, if written out in place (not merged in with ``<<``)."""
    node: Node | None = document
    for key in _NAME:
        if not isinstance(node, MappingNode):
            return None
        node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
    return None if node is None else _position(node)


# -- validation --


def _validate(data: Any, source: SourceMap) -> tuple[AnyManifest | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [
            source.problem((), "a manifest must be a mapping with apiVersion, kind, metadata, spec")
        ]
    header = _header_problems(data, source)
    if header:
        return None, header
    model = MANIFEST_MODELS[data["kind"]]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_translate(error, model, source) for error in exc.errors()]


def _header_problems(data: dict[str, Any], source: SourceMap) -> list[Problem]:
    problems = []
    api_version = data.get("apiVersion")
    if api_version != API_VERSION:
        if api_version is None:
            message = f"missing required field 'apiVersion' (supported: {API_VERSION})"
        else:
            message = f"unsupported apiVersion {api_version!r}; supported: {API_VERSION}"
        problems.append(source.problem(("apiVersion",), message))
    kind = data.get("kind")
    if kind not in KINDS:
        supported = ", ".join(KINDS)
        if kind is None:
            message = f"missing required field 'kind' (supported: {supported})"
        else:
            message = f"unknown kind {kind!r}{_did_you_mean(kind, KINDS)}; supported: {supported}"
        problems.append(source.problem(("kind",), message))
    return problems


_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _translate(error: ErrorDetails, model: type[BaseModel], source: SourceMap) -> Problem:
    loc: FieldPath = tuple(error["loc"])
    kind = error["type"]
    secret = any(part in SECRET_FIELDS for part in loc if isinstance(part, str))
    given = "" if secret else _describe(error.get("input"))
    if kind == "missing":
        return source.problem(loc, f"missing required field {loc[-1]!r}")
    if kind == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        hint = _did_you_mean(str(loc[-1]), valid)
        listing = f" (valid: {', '.join(valid)})" if valid else ""
        return source.problem(loc, f"unknown field {loc[-1]!r}{hint}{listing}", key=True)
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        value = error.get("input")
        hint = _did_you_mean(value, options) if isinstance(value, str) else ""
        got = repr(value) if isinstance(value, str) else given
        return source.problem(loc, f"expected one of {', '.join(options)}; got {got}{hint}")
    if kind in _TYPE_NAMES:
        got = f", got {given}" if given else ""
        return source.problem(loc, f"expected {_TYPE_NAMES[kind]}{got}")
    if kind == "greater_than_equal":
        return source.problem(loc, f"must be at least {error['ctx']['ge']}, got {given}")
    if kind == "value_error":
        return source.problem(loc, str(error["msg"]).removeprefix("Value error, "))
    return source.problem(loc, str(error["msg"]))


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {str: "a string", int: "an integer", float: "a number"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


def _did_you_mean(value: object, options: Sequence[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fields_at(model: type[BaseModel], loc: FieldPath) -> list[str]:
    """The keys a mapping at ``loc`` accepts, for suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        if part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """Unwrap Optional/Annotated/list to the model class inside, if any."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list):
        for arg in get_args(annotation):
            inner = _model_in(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
        return None
    if origin is Literal:
        return None
    return annotation


# -- checks across manifests --


def _cross_manifest_problems(claims: Sequence[_Claim]) -> Iterator[Problem]:
    by_name: dict[str, _Claim] = {}
    adopted: dict[str, _Claim] = {}
    for item in claims:
        first = by_name.setdefault(item.name, item)
        if first is not item:
            yield item.source.problem(
                _NAME,
                f"name {item.name!r} is also used at {first.source.name_location}; names must be unique",
            )
        if item.adopt is not None:
            owner = adopted.setdefault(item.adopt, item)
            if owner is not item:
                yield item.source.problem(
                    ("spec", "adopt"),
                    f"workflow {item.adopt!r} is also adopted by {owner.name!r} "
                    f"at {owner.source.name_location}",
                )
    for item in claims:
        for index, dependency in enumerate(item.depends_on):
            if dependency == item.name:
                yield item.source.problem(("spec", "depends_on", index), "a manifest cannot depend on itself")
            elif dependency not in by_name:
                hint = _did_you_mean(dependency, list(by_name))
                yield item.source.problem(
                    ("spec", "depends_on", index), f"no manifest named {dependency!r}{hint}"
                )
    cycle = _find_cycle({name: item.depends_on for name, item in by_name.items()})
    if cycle:
        start = by_name[cycle[0]]
        yield start.source.problem(
            ("spec", "depends_on"), f"dependency cycle: {' -> '.join([*cycle, cycle[0]])}"
        )


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle of the dependency graph, or [] (self-loops are reported separately)."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt == node or nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []
