"""An adapter whose library is missing says which extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module,blocked,extra", [
    ("verirank.integrations.langchain", "langchain_core", "langchain"),
    ("verirank.integrations.llamaindex", "llama_index", "llamaindex"),
    ("verirank.service.metrics", "prometheus_client", "server"),
])
def test_missing_library_names_the_extra(module, blocked, extra):
    code = (f"import sys; sys.modules[{blocked!r}] = None\n"
            f"from verirank.errors import MissingDependency\n"
            f"try:\n    import {module}\n    import {module} as m; getattr(m, 'ServiceMetrics', lambda: 0)()\n"
            f"except MissingDependency as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f'pip install "verirank[{extra}]"' in out
