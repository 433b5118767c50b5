"""Structure figures for the codebase: largest modules, `Any` in signatures, `getattr` probes.

    .venv/bin/python scripts/bench/structure_stats.py [mentor_local]

`Any` is counted in function signatures (parameter and return annotations) and in
class-level / module-level annotated assignments; `getattr` counts every call of the
builtin. Both are AST counts, so comments and strings never count.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _count_any(node: ast.AST | None) -> int:
    if node is None:
        return 0
    return sum(1 for n in ast.walk(node) if (isinstance(n, ast.Name) and n.id == "Any") or (isinstance(n, ast.Attribute) and n.attr == "Any"))


def stats(root: Path) -> dict[str, object]:
    sizes: list[tuple[int, str]] = []
    any_sig = 0
    any_ann = 0
    getattrs = 0
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        sizes.append((len(text.splitlines()), str(path)))
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                    if a is not None:
                        any_sig += _count_any(a.annotation)
                any_sig += _count_any(node.returns)
            elif isinstance(node, ast.AnnAssign):
                any_ann += _count_any(node.annotation)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                getattrs += 1
    sizes.sort(reverse=True)
    return {"largest": sizes[:5], "any_in_signatures": any_sig, "any_in_annotations": any_ann, "getattr_calls": getattrs}


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "mentor_local")
    result = stats(root)
    print("largest modules:")
    for lines, name in result["largest"]:  # type: ignore[attr-defined]
        print(f"  {lines:5d}  {name}")
    print(f"Any in signatures: {result['any_in_signatures']}")
    print(f"Any in other annotations: {result['any_in_annotations']}")
    print(f"getattr calls: {result['getattr_calls']}")


if __name__ == "__main__":
    main()
