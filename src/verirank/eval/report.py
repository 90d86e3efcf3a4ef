"""Write a :class:`ProfileReport` as ``report.json``, ``report.md`` (+ PNGs) and a self-contained ``report.html``."""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from verirank.eval.metrics import CategoryScores, ConfidenceInterval
from verirank.eval.profile import NearMissSetResult, ProfileReport


class ReportFiles(BaseModel):
    """Paths of the files a report was written to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: Path
    markdown: Path
    html: Path
    json_path: Path
    figures: list[Path]


def _ci(ci: ConfidenceInterval | None) -> str:
    return "n/a" if ci is None else f"{ci.value:.3f} [{ci.low:.3f}, {ci.high:.3f}]"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _one_line(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relevance_rows(report: ProfileReport) -> list[list[str]]:
    if report.relevance is None:
        return []
    return [[m, _ci(ci)] for m, ci in report.relevance.evaluation.metrics.items()]


def category_rows(result: NearMissSetResult) -> list[list[str]]:
    rows = []
    entries: list[CategoryScores] = [*result.scores.categories, result.scores.overall]
    for c in entries:
        rows.append([c.category, str(c.n_near_miss), str(c.n_positive), str(c.n_anchors),
                     _ci(c.pairwise_accuracy), _ci(c.auroc), _ci(c.far_at_tar)])
    return rows


CATEGORY_HEADER = ["category", "near-misses", "positives compared", "anchors w/ both", "pairwise acc [95% CI]",
                   "AUROC [95% CI]", "FAR@TAR [95% CI]"]
WORST_HEADER = ["score", "best positive", "category", "source", "anchor", "near-miss"]


def worst_rows(result: NearMissSetResult) -> list[list[str]]:
    return [[f"{w.score:.3f}", "-" if w.anchor_positive_score is None else f"{w.anchor_positive_score:.3f}",
             w.category, w.source, _one_line(w.anchor), _one_line(w.text)] for w in result.worst]


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sections(report: ProfileReport) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """(heading, note, header, rows) for every table, shared by markdown and HTML."""
    out: list[tuple[str, str, list[str], list[list[str]]]] = []
    if report.relevance is not None:
        r = report.relevance
        out.append(("Relevance (stage 1)", f"{r.n_queries} judged queries over {r.n_documents} documents, "
                    f"top {r.top_k} retrieved; mean [bootstrap 95% CI].", ["metric", "value [95% CI]"],
                    relevance_rows(report)))
        if r.exclusion is not None:
            e = r.exclusion
            rows = [[m, _ci(ci)] for m, ci in e.evaluation.metrics.items()]
            rows.append(["violating documents in the top 10", f"{e.violating_in_top10:.1%}"])
            out.append(("Relevance: exclusion queries", f"{e.n_queries} judged queries with an exclusion added "
                        "(\"..., excluding Y\"; documents that mention Y count as not relevant; the rule is in "
                        "report.json and verirank.eval.constraint_set).", ["metric", "value [95% CI]"], rows))
    for result in report.nearmiss:
        note = (f"{result.description}: {result.n_pairs} pairs over {result.n_anchors} anchors; "
                f"FAR at the threshold {_num(result.scores.threshold)}"
                f" accepting {result.scores.tar:.0%} of positives.")
        out.append((f"Near-misses: {result.name}", note, CATEGORY_HEADER, category_rows(result)))
    for result in report.nearmiss:
        out.append((f"Worst near-misses: {result.name}", "Near-misses scored highest (the ones that slip through).",
                    WORST_HEADER, worst_rows(result)))
    return out


def _summary(report: ProfileReport) -> str:
    lines = [f"verirank {report.verirank_version}, {report.created_utc}; scorer `{report.scorer}` "
             f"(level={report.level}), encoder `{report.encoder_id}`; corpus `{report.config['corpus']}` "
             f"({report.corpus_documents} documents); seed {report.config['seed']}."]
    for step, why in report.skipped.items():
        lines.append(f"Skipped {step}: {why}.")
    return "\n\n".join(lines)


def render_markdown(report: ProfileReport, figure_files: dict[str, str]) -> str:
    parts = ["# verirank profile", _summary(report)]
    for heading, note, header, rows in _sections(report):
        parts += [f"## {heading}", note, _md_table(header, rows)]
    parts += [f"![{name}]({path})" for name, path in figure_files.items()]
    return "\n\n".join(parts) + "\n"


def render_html(report: ProfileReport, figures: dict[str, bytes]) -> str:
    def table(header: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    parts = [f"<h1>verirank profile</h1><p>{html.escape(_summary(report))}</p>"]
    for heading, note, header, rows in _sections(report):
        parts.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(note)}</p>{table(header, rows)}")
    for name, png in figures.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}"></figure>')
    style = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:13px;margin-bottom:1em}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
             "th{background:#f3f3f3}img{max-width:100%}")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>verirank profile</title>'
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: ProfileReport, out_dir: str | Path) -> ReportFiles:
    """Write report.json, report.md (+ figures/*.png) and report.html into ``out_dir`` (created if
    missing; other files there are left alone). Each file is written to a temp name, then renamed."""
    from verirank.eval.plots import figures as make_figures

    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    pngs = make_figures(report)
    figure_files = {}
    for name, png in pngs.items():
        _write_atomic(out_dir / "figures" / f"{name}.png", png)
        figure_files[name] = f"figures/{name}.png"
    _write_atomic(out_dir / "report.json", (json.dumps(report.model_dump(mode="json"), indent=2) + "\n").encode())
    _write_atomic(out_dir / "report.md", render_markdown(report, figure_files).encode("utf-8"))
    _write_atomic(out_dir / "report.html", render_html(report, pngs).encode("utf-8"))
    return ReportFiles(directory=out_dir, markdown=out_dir / "report.md", html=out_dir / "report.html",
                       json_path=out_dir / "report.json",
                       figures=[out_dir / p for p in figure_files.values()])
