import json
import subprocess
import sys

import verirank

EXPECTED = [
    "BackendUnavailable", "Category", "CheckpointError", "ConfigError", "Constraint", "ConstraintKind", "Decision",
    "DimensionMismatch", "Document", "EncoderMismatch", "IndexError_", "IndexInfo", "InputError",
    "Level", "MissingDependency", "Mode", "NearMissPair", "Pipeline", "QueryConstraints", "Reason", "SearchHit", "Span",
    "TokenAlignment", "Verdict", "VerirankError", "__version__", "parse_constraints",
]


def test_all_is_pinned():
    assert sorted(verirank.__all__) == sorted(EXPECTED)
    for name in verirank.__all__:
        assert getattr(verirank, name) is not None


def test_import_loads_no_heavy_dependency():
    code = (
        "import sys, json, verirank; "
        "print(json.dumps([m for m in ('torch', 'spacy', 'fastapi', 'matplotlib', 'transformers', "
        "'onnxruntime', 'usearch', 'psycopg', 'ranx', 'prometheus_client', 'uvicorn', 'langchain_core', "
        "'llama_index', 'selenium') if m in sys.modules]))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded == []


def test_reject_verdict_requires_reason():
    import pytest

    with pytest.raises(ValueError, match="Reason"):
        verirank.Verdict(candidate="x", p_match=0.1, decision="reject")
