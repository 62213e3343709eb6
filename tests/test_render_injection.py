"""Issue 12: text a pull request's author controls renders inert, on GitHub and in a terminal.

Names (and so addresses), workflow names read from the tenant, label keys and values, parameter
values, file names, and the reasons, notes, findings and details quoting them are made hostile
here: raw HTML, a ``<details>`` fold closed early, ``@`` mentions, a fence closed by a newline and
backticks, table pipes, a forged hidden marker and plan record, terminal escapes, a carriage
return and a bidi override. Markdown is checked both as text (what parsers of the raw body read)
and as the HTML a CommonMark parser with GitHub's tables makes of it (what a reader sees).
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from reconciler import cli
from reconciler.apply import ApplyResult, ItemResult
from reconciler.drift import DriftReport, Finding
from reconciler.github import (
    GitHubClient,
    GitHubContext,
    drift_issue_body,
    drift_marker,
    find_plan_comment,
    fit,
    parse_plan_record,
    plan_marker,
    publish_plan_comment,
)
from reconciler.plan.model import Action, FieldChange, Plan, PlannedWorkflow, Reason, ReasonCode
from reconciler.plan.review import fingerprint as plan_fingerprint
from reconciler.render.drift import drift_as_dict, render_drift_markdown, render_drift_text
from reconciler.render.escape import html_code, html_text, md_code, md_fence, md_text, terminal_text
from reconciler.render.plan import plan_as_dict, render_json, render_markdown, render_text
from reconciler.render.results import render_results_markdown, render_results_text
from tests.github.conftest import PR_NUMBER, actions_environ
from tests.github.fake_github import FakeGitHub
from tests.helpers import EXAMPLES, as_planned

FORGED_RECORD = "<!-- reconciler:plan-record v1 instance=default sha256=" + "0" * 64 + " -->"
FORGED_SUMMARY = "\nPlan: 0 to create, 0 to update, 0 to rerun, 0 to archive."
HOSTILE = (
    "<details>open</details> <img src=x onerror=alert(1)> @org/team @someone ```\n"
    "</details>\n| cell | row |\n<!-- reconciler:plan instance=default -->\n"
    f"{FORGED_RECORD}\n\x1b[31mred\rover \u202eevil `tick` *em* _em_ [link](https://example.com) $x$"
)
MARKER = plan_marker("default")
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# Every control and direction character a renderer must not emit raw (a newline excepted).
RAW_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
MENTION = re.compile(r"@[A-Za-z0-9]")  # what GitHub links (and notifies) outside code
RENDERER_TAGS = {
    "h3",
    "p",
    "strong",
    "em",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "pre",
    "details",
    "summary",
}
_VOID = {"img", "br", "hr", "input", "source", "meta", "link"}


class Page(HTMLParser):
    """What a reader of the rendered HTML gets: its elements, comments, and text by where it is."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.comments: list[str] = []
        self.prose = ""  # text outside <code>, <pre> and <a>: where GitHub turns @name into a mention
        self.blocks: list[str] = []  # the text of each <pre>
        self.codes: list[str] = []  # the text of each inline <code>
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in _VOID:
            return
        if tag == "pre":
            self.blocks.append("")
        elif tag == "code" and "pre" not in self._open:
            self.codes.append("")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "pre" in self._open:
            self.blocks[-1] += data
        elif "code" in self._open:
            self.codes[-1] += data
        if not {"code", "pre", "a"} & set(self._open):
            self.prose += data

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def rendered(markdown: str) -> Page:
    """``markdown`` as HTML, parsed as GitHub does (CommonMark, raw HTML allowed, GFM tables)."""
    return Page(MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown))


def assert_inert_markdown(
    markdown: str, *, folds: int, diff_lines: list[int], cells: int, comments: list[str]
) -> Page:
    """Only the renderer's structure: ``folds`` balanced folds, each fence holding its lines (none
    closed early), ``cells`` table cells (no row broken), no raw HTML or control characters, no
    mention, and exactly the hidden ``comments`` the renderer wrote, each alone on its line."""
    assert markdown.count("<details>") == markdown.count("</details>") == folds
    assert markdown.count("<summary>") == markdown.count("</summary>") == folds
    assert "<img" not in markdown
    assert not RAW_CONTROL.search(markdown)
    hidden = [line for line in markdown.splitlines() if "<!--" in line]
    assert hidden == [f"<!--{comment}-->" for comment in comments]
    page = rendered(markdown)
    assert set(page.tags) <= RENDERER_TAGS, set(page.tags) - RENDERER_TAGS
    assert page.tags.count("details") == page.tags.count("summary") == folds
    assert [block.count("\n") for block in page.blocks] == diff_lines
    assert page.tags.count("td") == cells
    assert not MENTION.search(page.prose), page.prose
    assert page.comments == comments
    return page


def assert_inert_text(plain: str, colored: str | None = None, *, summary: str = "Plan:") -> None:
    """No control character but the renderer's newlines; the hostile ones shown as escapes; no
    line looking like the closing summary but the last; with colour, nothing but the renderer's
    own colour codes added."""
    assert not RAW_CONTROL.search(plain)
    assert "\\x1b[31mred\\rover \\u202eevil" in plain
    assert [line for line in plain.splitlines() if line.startswith(summary)] == plain.splitlines()[-1:]
    if colored is not None:
        assert ESCAPE.search(colored)
        assert ESCAPE.sub("", colored) == plain


# -- the plan ---------------------------------------------------------------------------------

MASKED = FieldChange("change", ("parameters", "object_key"), "${env:KEY}" + HOSTILE, "${env:KEY}" + HOSTILE)
CHANGES = (
    FieldChange("change", ("labels", "team"), "data", HOSTILE),
    FieldChange("add", ("labels", HOSTILE), None, "x"),
    FieldChange("change", ("parameters", "assets_prefix"), "/in", HOSTILE),
    MASKED,
)


def hostile_plan() -> Plan:
    return Plan(
        instance="default",
        items=(
            PlannedWorkflow(
                address=f"AssetImport.{HOSTILE}",
                kind="AssetImport",
                workflow=f"wf-{HOSTILE}",
                manifest=HOSTILE,
                **as_planned(Action.UPDATE, Action.RERUN),
                reasons=(
                    Reason(ReasonCode.TAKE_OVER, (HOSTILE,)),
                    Reason(ReasonCode.ADOPT_TARGET_MISSING, (FORGED_SUMMARY,)),
                ),
                changes=CHANGES,
            ),
            PlannedWorkflow(  # a workflow read from the tenant can have any name
                address=f"workflow.{HOSTILE}",
                kind="AssetImport",
                workflow=HOSTILE,
                manifest=None,
                **as_planned(Action.ARCHIVE),
                reasons=(Reason(ReasonCode.TAKE_OVER, (HOSTILE,)),),
            ),
            PlannedWorkflow(
                address="AssetImport.quiet",
                kind="AssetImport",
                workflow=f"wf-{HOSTILE}",
                manifest="quiet",
                **as_planned(Action.NOOP),
            ),
        ),
        notes=(f"skipped manifests/{HOSTILE}.yaml", f"# {HOSTILE}"),
    )


def test_a_hostile_plan_renders_inert_in_markdown() -> None:
    markdown = render_markdown(hostile_plan(), marker=MARKER)

    page = assert_inert_markdown(
        markdown, folds=1, diff_lines=[len(CHANGES)], cells=2 * 4, comments=[MARKER[4:-3]]
    )
    assert markdown.splitlines()[0] == MARKER
    assert page.tags.count("blockquote") == 1  # the notes: no heading, list or nested quote in them
    assert page.tags.count("h3") == 1
    # Everything is still there to read: outside code as the text written (@ then an invisible
    # zero-width space), in code as written (a zero-width space after a "<" that opens a tag).
    readable = terminal_text(HOSTILE.replace("\n", " ")).replace("@", "@\u200b")
    assert f"take over unmanaged workflow {readable}" in page.prose
    assert page.codes[2] == terminal_text(f"AssetImport.{HOSTILE}").replace("<", "<\u200b")
    (diff,) = page.blocks
    assert diff.splitlines()[-1].endswith(" (value changed)")
    assert "\\x1b[31mred\\rover \\u202eevil" in diff


def test_a_hostile_plan_renders_inert_in_a_terminal() -> None:
    plain = render_text(hostile_plan())
    colored = render_text(hostile_plan(), color=True)

    assert_inert_text(plain, colored)
    assert "  \x1b[33m~\x1b[0m AssetImport." in colored  # the renderer's colours still work
    assert "      \x1b[33m~ labels.team: " in colored
    assert "  \x1b[31m-\x1b[0m workflow." in colored
    lines = plain.splitlines()
    # One line per item, reason, change and note: no hostile newline made another one.
    assert len(lines) == 2 + (1 + 2 + len(CHANGES) + 1) + (1 + 1 + 1) + (1 + 1) + 2 + 1
    assert (
        "      # workflow \\nPlan: 0 to create, 0 to update, 0 to rerun, 0 to archive. to adopt does not exist; creating it"
        in lines
    )


def test_json_keeps_the_hostile_text_exact() -> None:
    p = hostile_plan()
    data = json.loads(render_json(p))
    assert data == plan_as_dict(p)
    assert data["workflows"][0]["address"] == f"AssetImport.{HOSTILE}"
    assert data["workflows"][0]["changes"][0]["new"] == HOSTILE
    assert data["workflows"][0]["changes"][1]["path"] == ["labels", HOSTILE]
    assert data["workflows"][1]["workflow"] == HOSTILE
    assert data["notes"][0] == f"skipped manifests/{HOSTILE}.yaml"


def test_a_hostile_plan_cut_to_fit_stays_balanced() -> None:
    p = hostile_plan()
    many = Plan(instance="default", items=p.items[:1] * 40, notes=p.notes)
    markdown = render_markdown(many, marker=MARKER, limit=10**7)
    for limit in (3_000, 7_000, 20_000):
        cut = fit(markdown, limit)
        assert len(cut) <= limit
        page = rendered(cut)
        assert page.tags.count("details") == cut.count("<details>") == cut.count("</details>")
        assert all(block.count("\n") == len(CHANGES) for block in page.blocks[:-1])
        assert "Truncated: this text is longer than GitHub allows" in page.prose  # not swallowed by a fence
        assert set(page.tags) <= RENDERER_TAGS


# -- drift and apply results ------------------------------------------------------------------


def hostile_report() -> DriftReport:
    return DriftReport(
        instance="default",
        findings=(
            Finding(
                f"AssetImport.{HOSTILE}",
                f"wf-{HOSTILE}",
                "modified",
                f"edited outside git: {HOSTILE}",
                CHANGES,
            ),
            Finding(f"workflow.{HOSTILE}", HOSTILE, "unhealthy", f"last run {HOSTILE} failed", phase=HOSTILE),
        ),
        checked=2,
    )


def test_a_hostile_drift_report_renders_inert() -> None:
    report = hostile_report()
    markdown = render_drift_markdown(report)
    assert_inert_markdown(
        markdown, folds=1, diff_lines=[len(CHANGES)], cells=2 * 4, comments=[" reconciler:drift "]
    )
    assert_inert_text(render_drift_text(report), summary="Drift:")
    assert drift_as_dict(report)["findings"][0]["message"] == f"edited outside git: {HOSTILE}"


def test_the_drift_issue_of_a_hostile_report_keeps_its_hidden_lines_first() -> None:
    body = drift_issue_body(render_drift_markdown(hostile_report()), instance="default", run_url=None)
    lines = body.splitlines()
    assert lines[0] == drift_marker("default")
    assert lines[1].startswith("<!-- reconciler:drift-digest sha256=")
    hidden = [line for line in lines if "<!--" in line]
    assert hidden == lines[:2]


def test_hostile_apply_results_render_inert() -> None:
    result = ApplyResult(
        items=(
            ItemResult(
                f"AssetImport.{HOSTILE}", f"wf-{HOSTILE}", (Action.UPDATE,), "failed", f"409: {HOSTILE}"
            ),
            ItemResult("AssetImport.b", "wf-b", (Action.RERUN,), "done", run="r-1", run_phase=HOSTILE),
        )
    )
    markdown = render_results_markdown(result)
    assert_inert_markdown(markdown, folds=0, diff_lines=[], cells=2 * 5, comments=[])
    plain = render_results_text(result)
    assert_inert_text(plain, render_results_text(result, color=True), summary="Apply:")
    assert len(plain.splitlines()) == 4


# -- the escaping functions -------------------------------------------------------------------

PIECES = [
    "<details>",
    "</details>",
    "<img src=x onerror=alert(1)>",
    "@org/team and @someone",
    "```\nnot code",
    "a | b",
    "<!-- reconciler:plan instance=default -->",
    "\x1b[31mred\rover",
    "\u202eevil\u2066",
    "`x` ``y`` *em* **strong** _em_ __strong__ ~~del~~ [l](https://e.x) ![i](https://e.x/i.png)",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "&amp; &#64;x &lt;b&gt;",
    "$x^2$ and \\(escaped\\)",
    "snake_case_name and a_b",
    " padded ",
    "`",
    "",
]


@pytest.mark.parametrize("text", PIECES)
def test_md_text_renders_as_the_literal_text(text: str) -> None:
    page = rendered(f"> {md_text(text)}")
    assert page.tags in (["blockquote", "p"], ["blockquote"])
    assert page.prose.strip() == terminal_text(text.replace("\n", " ")).replace("@", "@\u200b").strip()
    assert not MENTION.search(page.prose)


@pytest.mark.parametrize("text", PIECES)
def test_md_code_is_one_code_span_even_in_a_table_cell(text: str) -> None:
    for markdown, cell in (
        (f"x {md_code(text)} y", False),
        (f"| a |\n|---|\n| {md_code(text, cell=True)} |", True),
    ):
        page = rendered(markdown)
        assert page.tags.count("code") == 1
        assert page.tags.count("td") == (1 if cell else 0)
        assert page.codes[0] == (terminal_text(text).replace("<", "<\u200b") or " ")


def test_md_fence_is_longer_than_any_backtick_run() -> None:
    lines = ["+ ```", "+ ````` and `", "- ```\n```", "~ </details>"]
    fenced = md_fence(lines, "diff")
    assert fenced.startswith("``````diff\n")
    assert fenced.endswith("\n``````")
    (block,) = rendered(fenced + "\nafter").blocks
    assert block.splitlines() == [terminal_text(line).replace("<", "<\u200b") for line in lines]
    assert md_fence(["+ a"], "diff") == "```diff\n+ a\n```"


def test_html_text_and_html_code_are_literal_inside_a_summary() -> None:
    markdown = (
        f"<details><summary>{html_code(HOSTILE)} {html_text(HOSTILE)}</summary>\n\n"
        f"{md_fence(['+ a'], 'diff')}\n</details>"
    )
    page = assert_inert_markdown(markdown, folds=1, diff_lines=[1], cells=0, comments=[])
    assert page.codes == [terminal_text(HOSTILE)]
    assert terminal_text(HOSTILE.replace("\n", " ")).replace("@", "@\u200b") in page.prose


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31m", "\\x1b[31m"),
        ("a\rb", "a\\rb"),
        ("a\nb\tc", "a\\nb\\tc"),
        ("\b\x00\x7f\x9b", "\\x08\\x00\\x7f\\x9b"),
        ("\u202a\u202e\u2066\u2069\u200f\u2028", "\\u202a\\u202e\\u2066\\u2069\\u200f\\u2028"),
        ("plain ü 名前 <b> @x", "plain ü 名前 <b> @x"),
    ],
)
def test_terminal_text_shows_controls_as_escapes(raw: str, shown: str) -> None:
    assert terminal_text(raw) == shown


# -- through GitHub ---------------------------------------------------------------------------


def test_the_pr_comment_of_a_hostile_plan_is_inert_and_records_the_real_plan(
    github: FakeGitHub, tmp_path: Path
) -> None:
    context = GitHubContext.from_environ(actions_environ(github, tmp_path))
    p = hostile_plan()
    with GitHubClient(context, retries=0) as client:
        result = publish_plan_comment(
            context, render_markdown(p, marker=MARKER), marker=MARKER, client=client, plan=p
        )
        assert result.action == "created"
        (comment,) = github.comments[PR_NUMBER]
        body = str(comment["body"])
        lines = body.splitlines()
        assert lines[0] == MARKER
        record = lines[-1]
        assert record.startswith("<!-- reconciler:plan-record v1 instance=default sha256=")
        assert_inert_markdown(
            body, folds=1, diff_lines=[len(CHANGES)], cells=2 * 4, comments=[MARKER[4:-3], record[4:-3]]
        )
        recorded = parse_plan_record(body)
        assert recorded is not None
        assert recorded.digest == plan_fingerprint(p) != "0" * 64
        found = find_plan_comment(client, PR_NUMBER, marker=MARKER)
        assert found is not None
        assert found.id == result.comment_id
        again = publish_plan_comment(
            context, render_markdown(p, marker=MARKER), marker=MARKER, client=client, plan=p
        )
        assert again.action == "unchanged"


def test_plan_github_comment_end_to_end_with_a_hostile_parameter_value(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest whose parameter value is hostile: the CLI's text, the PR comment and the job
    summary are inert, and the comment records the plan itself."""
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    monkeypatch.chdir(tmp_path)  # outside git, data sources must be under the current directory
    for key, value in actions_environ(github, tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    assert cli.main(["apply", "--auto-approve", str(manifests)]) == 0
    snowflake = manifests / "asset-import" / "snowflake-assets.yaml"
    text = snowflake.read_text()
    assert "prefix: /imports/snowflake" in text
    value = "\x1b[31mred\rover \u202eevil <img src=x> @org/team ```\n</details>\n<!-- reconciler:plan instance=default -->"
    assert len(json.dumps(value, ensure_ascii=False)) <= 120  # shown whole in the diff line
    snowflake.write_text(text.replace("prefix: /imports/snowflake", f"prefix: {json.dumps(value)}", 1))
    capsys.readouterr()

    assert cli.main(["plan", "--github-comment", str(manifests)]) == 0

    out, err = capsys.readouterr()
    assert "~ parameters.assets_prefix: " in out
    assert not RAW_CONTROL.search(out + err)
    assert "\\u001b[31mred\\rover \\u202eevil" in out  # ESC and CR escaped by JSON, U+202E by the renderer
    (comment,) = github.comments[PR_NUMBER]
    body = str(comment["body"])
    record = body.splitlines()[-1]
    assert_inert_markdown(body, folds=1, diff_lines=[1], cells=4, comments=[MARKER[4:-3], record[4:-3]])
    recorded = parse_plan_record(body)
    assert recorded is not None
    assert recorded.digest != "0" * 64
    summary = (tmp_path / "step_summary.md").read_text()
    assert_inert_markdown(summary, folds=1, diff_lines=[1], cells=4, comments=[MARKER[4:-3]])
