"""Fail when any two modules import each other, directly or round a loop — counting the
imports inside functions too (grimp's graph, the one import-linter builds). The layers
contracts in pyproject.toml keep the apps' floors; this keeps every floor free of loops.

Run by `make lint`: `python scripts/check_import_cycles.py`.
"""

import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def import_cycles(graph) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan, iteratively)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*config["root_packages"], include_external_packages=False)
    cycles = import_cycles(graph)
    for group in cycles:
        print("Import cycle:", " <-> ".join(group))
        for importer in group:
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported in group:
                    lines = graph.get_import_details(importer=importer, imported=imported)
                    where = ", ".join(f"l.{d['line_number']}" for d in lines)
                    print(f"  {importer} -> {imported} ({where})")
    print(f"{len(graph.modules)} modules, {len(cycles)} import cycles")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
