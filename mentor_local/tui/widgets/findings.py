"""The findings pane: review findings grouped by topic, then severity; a filter box narrows them."""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Tree

from mentor_local.domain import SEVERITY_ORDER, Finding, severity_rank
from mentor_local.tui.safe import clean

_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def matches(finding: Finding, query: str) -> bool:
    """Every word of ``query`` must occur in the finding's topic, severity, rule, path, message or card."""
    hay = " ".join(
        str(x) for x in (finding.topic, finding.severity, finding.rule, finding.path, finding.message, finding.card or "",
                         finding.confidence, finding.why)
    ).lower()
    return all(word in hay for word in query.lower().split())


def group(findings: list[Finding]) -> dict[str, dict[str, list[Finding]]]:
    """``topic -> severity -> findings``; topics with high-severity findings first."""
    out: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        out[f.topic][f.severity].append(f)

    def key(topic: str) -> tuple[int, int, str]:
        worst = min((severity_rank(s) for s in out[topic]), default=len(SEVERITY_ORDER))
        return (worst, -sum(len(v) for v in out[topic].values()), topic)

    return {t: dict(sorted(out[t].items(), key=lambda kv: severity_rank(kv[0]))) for t in sorted(out, key=key)}


class FindingsPane(Vertical):
    """A filter ``Input`` over a ``Tree``; selecting a finding posts ``OpenFinding``."""

    class OpenFinding(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings: list[Finding] = []
        self.note = "Reviewing the repo…"

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: topic, severity, path, rule…", id="findings-filter")
        tree: Tree[Finding] = Tree(Text("findings"), id="findings-tree")
        tree.show_root = False
        yield tree

    def on_mount(self) -> None:
        self.refresh_tree()

    def set_findings(self, findings: list[Finding], note: str | None = None) -> None:
        self.findings = list(findings)
        self.note = note if note is not None else ("No findings: the review found nothing to flag." if not findings else "")
        self.refresh_tree()

    @property
    def query_text(self) -> str:
        return self.query_one("#findings-filter", Input).value

    def refresh_tree(self) -> None:
        tree: Tree[Finding] = self.query_one("#findings-tree", Tree)
        tree.clear()
        shown = [f for f in self.findings if matches(f, self.query_text)]
        if not shown:
            text = self.note if not self.findings else f"No finding matches {self.query_text!r}."
            tree.root.add_leaf(Text(text, style="dim"))
            return
        for topic, by_severity in group(shown).items():
            total = sum(len(v) for v in by_severity.values())
            topic_node = tree.root.add(Text.assemble((clean(topic), "bold"), (f" ({total})", "dim")), expand=True)
            for severity, items in by_severity.items():
                sev = topic_node.add(
                    Text.assemble((severity, _SEVERITY_STYLE.get(severity, "")), (f" ({len(items)})", "dim")),
                    expand=severity == "high" or len(shown) <= 30,
                )
                for f in sorted(items, key=lambda f: (f.path, f.line)):
                    # how sure the rule is and why it fired (absent on findings that carry neither)
                    note = (f"  [{f.confidence} confidence{': ' + f.why if f.why else ''}]"
                            if f.why or f.confidence != "high" else "")
                    label = Text.assemble((clean(f"{f.path}:{f.line}"), "bold"), " ", clean(f.message),
                                          (clean(note), "dim"))
                    sev.add_leaf(label, data=f)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_tree()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#findings-tree", Tree).focus()

    def on_tree_node_selected(self, event: Tree.NodeSelected[Finding]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.OpenFinding(event.node.data))
