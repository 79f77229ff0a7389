"""The generator's package reads as a pipeline: each module imports only the stages before it."""
from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

PIPELINE = ["problems", "cache", "load", "schema", "facts", "validate", "text", "merge", "pages", "data", "render", "write", "serve", "cli"]
PACKAGE = ROOT / "httpref"


def package_imports(module: str) -> set[str]:
    """The package's modules that `module` imports (relative or absolute)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module)
            elif node.module and node.module.startswith("httpref."):
                found.add(node.module.removeprefix("httpref."))
    return found


def test_every_module_is_a_stage_of_the_pipeline():
    assert sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") == sorted(PIPELINE)


def test_each_module_imports_only_the_stages_before_it():
    for position, module in enumerate(PIPELINE):
        later = package_imports(module) - set(PIPELINE[:position])
        assert not later, f"httpref/{module}.py imports {sorted(later)}, which come after it in the pipeline"


def test_no_module_is_longer_than_500_lines():
    lengths = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert max(lengths.values()) <= 500, lengths


def test_build_check_and_bundle_never_load_the_dev_server():
    script = ("import sys; sys.argv = ['build.py', 'check', '--content', %r]\n"
              "from httpref.cli import main\nmain()\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('livereload', 'tornado', 'watchfiles')"
              " or m == 'httpref.serve'))") % str(ROOT / "content")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
