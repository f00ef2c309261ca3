"""Imports go one way (ARCHITECTURE.md): faces → use cases → stages → checks/, schemas/.

A small check over every module's import statements (top-level and inside functions), not a
framework: it fails when a change imports against the direction or closes a circle.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli.py", "pipeline", "checks", "schemas", "demo", "portal", "bench")
FACES = ("cli", "portal")
USE_CASES = ("pipeline.run", "pipeline.validate")
CONTRACTS = ("pipeline.progress", "pipeline.settings")          # shared by faces, use cases, stages
# the stages in the order data flows; a stage may import itself and the stages before it
STAGES = ("pipeline.store", "pipeline.ingest", "pipeline.check", "pipeline.reconcile", "pipeline.outputs",
          "pipeline.cycle")


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def project_modules() -> dict[str, set[str]]:
    """module -> the project modules it imports (a `from a import b` counts a.b when b is a module)."""
    files = []
    for base in PACKAGES:
        p = ROOT / base
        files += [p] if p.is_file() else [f for f in p.rglob("*.py") if "migrations" not in f.parts]
    mods = {module_name(f): f for f in files}
    out: dict[str, set[str]] = {}
    for name, f in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
                deps |= {f"{node.module}.{a.name}" for a in node.names}
        out[name] = {d for d in deps if d in mods and d != name}
    return out


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def stage_of(name: str) -> int | None:
    for i, s in enumerate(STAGES):
        if within(name, (s,)):
            return i
    return None


GRAPH = project_modules()


def test_the_graph_sees_the_project():
    assert "pipeline.run" in GRAPH and "checks.catalogue" in GRAPH and "portal.services" in GRAPH
    assert "pipeline.ingest.load" in GRAPH["pipeline.run"]


def violations(graph: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(module, imported, which rule it breaks) for every import against the direction."""
    bad = []
    for m, deps in graph.items():
        s = stage_of(m)
        for d in deps:
            if within(d, FACES) and not within(m, FACES + ("bench",)):
                bad.append((m, d, "imports a face"))
            if s is not None and within(d, USE_CASES):
                bad.append((m, d, "a stage imports a use case"))
            t = stage_of(d)
            if s is not None and t is not None and t > s:
                bad.append((m, d, f"{STAGES[s]} imports the later stage {STAGES[t]}"))
            if within(m, ("checks", "schemas")) and within(d, ("pipeline", "portal", "cli", "demo", "bench")):
                bad.append((m, d, "checks/schemas import a stage or a face"))
            if within(m, ("schemas",)) and within(d, ("checks",)):
                bad.append((m, d, "schemas imports checks"))
            if within(d, ("demo",)) and not within(m, ("demo", "bench", "cli")):
                bad.append((m, d, "only the demo command, bench and tests import demo"))
            if within(m, ("portal",)) and m != "portal.services" and within(d, ("pipeline", "checks", "schemas")):
                bad.append((m, d, "the portal reaches the pipeline through portal.services only"))
    return bad


def test_imports_go_one_way():
    assert violations(GRAPH) == []


def test_each_direction_rule_catches_a_wrong_import():
    wrong = {"pipeline.ingest.x": {"pipeline.run", "cli"}, "pipeline.store.y": {"pipeline.outputs.workbooks"},
             "checks.z": {"pipeline.run"}, "schemas.w": {"checks.engine"}, "pipeline.outputs.v": {"demo.generate"},
             "portal.views.u": {"pipeline.run"}}
    broken = {why for _, _, why in violations(wrong)}
    assert len(broken) == 7, broken


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (a package and its own
    modules excepted: `pipeline.ingest` is the folder of `pipeline.ingest.load`)."""
    graph = {m: {d for d in deps if not (d.startswith(m + ".") or m.startswith(d + "."))}
             for m, deps in graph.items()}
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def test_no_import_circles():
    assert circles(GRAPH) == []


def test_a_circle_is_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
