"""Self-describing verifier checkpoints: safetensors weights + verifier.json + README card.

    DIR/model.safetensors   weights (no pickle)
    DIR/verifier.json       format version, VerifierConfig, Calibration, token-head id, metrics, provenance
    DIR/README.md           model card rendered from verifier.json
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from verirank._version import __version__
from verirank.errors import CheckpointError

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
META = "verifier.json"


def shipped_path() -> Path:
    """The checkpoint that ships inside the package."""
    return Path(__file__).resolve().parents[1] / "checkpoints" / "verifier"


def token_head_id(model: Any) -> str:
    """Content hash of the token-head weights: indexes record it and refuse another head."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.head.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return "head-" + h.hexdigest()[:16]


def save(model: Any, calibration: Any, directory: str | Path, info: dict[str, Any] | None = None) -> Path:
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": "verirank-verifier",
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "config": model.cfg.to_json(),
        "calibration": calibration.to_json(),
        "token_head_id": token_head_id(model),
        **(info or {}),
    }
    tmp = directory / f".{WEIGHTS}.tmp"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    os.replace(tmp, directory / WEIGHTS)
    write_meta(directory, meta)
    return directory


def write_meta(directory: str | Path, meta: dict[str, Any]) -> None:
    """Metadata (calibration, tuned settings, metrics) and the model card rendered from it."""
    directory = Path(directory)
    (directory / META).write_text(json.dumps(meta, indent=2, sort_keys=True), "utf-8")
    (directory / "README.md").write_text(render_card(meta), "utf-8")


def read_meta(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    path = directory / META
    if not path.exists():
        raise CheckpointError(f"no verifier checkpoint at {directory} ({META} missing); train one with `verirank train`")
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupt ({exc}); re-download or retrain the checkpoint") from exc
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{directory} is checkpoint format {meta['format_version']}; upgrade verirank to load it")
    return meta


def load(directory: str | Path) -> tuple[Any, Any, dict[str, Any]]:
    """-> (Verifier in eval mode, Calibration, meta). Verifies the token-head id."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from verirank.verifier.model import Calibration, Verifier, VerifierConfig

    directory = Path(directory)
    meta = read_meta(directory)
    model = Verifier(VerifierConfig.from_json(meta["config"]))
    try:
        state = load_file(str(directory / WEIGHTS))
        model.load_state_dict(state)
    except (FileNotFoundError, SafetensorError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"cannot load weights from {directory / WEIGHTS} ({exc}); the checkpoint is damaged") from exc
    model.eval()
    if token_head_id(model) != meta["token_head_id"]:
        raise CheckpointError(f"{directory}: weights do not match the recorded token-head id; the checkpoint is damaged")
    return model, Calibration.from_json(meta.get("calibration", {})), meta


def render_card(meta: dict[str, Any]) -> str:
    """A short model card from the checkpoint metadata (no network, no templates)."""
    cfg = meta["config"]
    lines = [
        "# verirank verifier checkpoint",
        "",
        "Stage-2 near-miss verifier for all-MiniLM-L6-v2 token states (arXiv 2604.16351 style",
        "similarity-map Transformer with a trainable token head). Stage-1 vectors are untouched.",
        "",
        f"- token head id: `{meta['token_head_id']}` (indexes record it; re-index when it changes)",
        f"- stored per candidate: {cfg['max_doc_tokens']} tokens x {cfg['token_dim']} dims",
        f"- token head: {cfg['head']}"
        + (f" (trainable copies of encoder layers {cfg['encoder_layers'] - cfg['head_layers'] + 1}-"
           f"{cfg['encoder_layers']}, reading layer-{cfg['encoder_layers'] - cfg['head_layers']} states)"
           if cfg["head"] == "encoder" else " (reads last-layer states)"),
        f"- match head sees the stage-1 cosine: {'yes' if cfg.get('use_cosine') else 'no'}",
        f"- library version: {meta['library_version']}",
    ]
    for key in ("training", "data", "metrics", "limits"):
        if key in meta:
            lines += ["", f"## {key.capitalize()}", "", "```json", json.dumps(meta[key], indent=2), "```"]
    if "licences" in meta:
        lines += ["", "## Licences of training data", ""] + [f"- {x}" for x in meta["licences"]]
    return "\n".join(lines) + "\n"
