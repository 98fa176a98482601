"""Story grouping: how right it is on the labelled pairs, and how fast with many entries.

Usage: ``python -m bench.stories [--entries 50000] [--queries 2000] [--seed 13]
[--out bench/results] [--sweep]``.

Quality: every pair of ``tests/cases/stories/dev.jsonl`` and ``test2.jsonl`` is
decided as :class:`notifier.stories.StoryIndex` decides it — equal canonical
links, else :func:`notifier.stories.same_story` — and scored against its label:
precision, recall, F1, the confusion counts, and the pairs it gets wrong. The
text-only decision (links ignored) is scored too. ``--sweep`` also prints, for
the dev split only, the alternatives measured while choosing the method (token
Jaccard, containment, titles only, the chosen title-boosted Jaccard), each with
the changed-fact rules, at its best threshold.

Speed: ``--entries`` synthetic entries (words drawn from a Zipf-like vocabulary,
one in five Chinese) are indexed over 48 hours; then ``--queries`` new entries
are each given a signature, looked up (``find``) and added, and each step is
timed (median, 99th percentile, mean, in microseconds). Also: ``signature`` of a
1 MB summary, and ``expire`` of a day of entries.

Writes ``stories.md`` and ``stories.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/stories.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.startup import machine
from notifier import stories
from notifier.stories import (
    Signature,
    StoryIndex,
    canonical_link,
    differ,
    same_entry_link,
    same_story,
    signature,
    similarity,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "stories"
SPLITS = ("dev", "test2")


# --------------------------------------------------------------------------- quality


def load(split: str) -> list[dict[str, Any]]:
    """The pairs of one split."""
    lines = (CASES / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def sig(text: dict[str, Any]) -> Signature:
    return signature(text["title"], text["summary"])


def decide(pair: dict[str, Any], *, links: bool = True) -> tuple[bool, str]:
    """The decision a StoryIndex makes for the pair's second entry, and its reason."""
    if links:
        a, b = canonical_link(pair["a"]["link"]), canonical_link(pair["b"]["link"])
        if a is not None and a == b and same_entry_link(sig(pair["a"]), sig(pair["b"])):
            return True, "same link"
    return same_story(sig(pair["a"]), sig(pair["b"]))


def score(pairs: list[dict[str, Any]], *, links: bool = True) -> dict[str, Any]:
    """Precision, recall, F1, the confusion counts and the misclassified pairs."""
    tp = fp = fn = tn = 0
    wrong: list[dict[str, Any]] = []
    for pair in pairs:
        said, reason = decide(pair, links=links)
        truth = bool(pair["same"])
        tp += said and truth
        fp += said and not truth
        fn += truth and not said
        tn += not said and not truth
        if said != truth:
            wrong.append(
                {
                    "expected": truth,
                    "a": pair["a"]["title"][:70],
                    "b": pair["b"]["title"][:70],
                    "reason": reason,
                    "source": pair["source"],
                    "note": pair["note"],
                }
            )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pairs": len(pairs),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "wrong": wrong,
    }


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _containment(a: Signature, b: Signature) -> float:
    x, y = a.shingles, b.shingles
    return len(x & y) / min(len(x), len(y)) if x and y else 0.0


#: The alternatives measured on dev (text only, links ignored).
ALTERNATIVES: dict[str, Callable[[Signature, Signature], float]] = {
    "jaccard (title+summary)": lambda a, b: _jaccard(a.shingles, b.shingles),
    "containment (overlap / smaller)": _containment,
    "jaccard of titles only": lambda a, b: _jaccard(a.title, b.title),
    "chosen: max(jaccard, mean(title jaccard, jaccard))": similarity,
}


def sweep(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each alternative, the thresholds with the best F1 at precision ≥ 0.95 on ``pairs``.

    Each with the changed-fact rules of :func:`notifier.stories.differ`."""
    signed = [(sig(p["a"]), sig(p["b"]), bool(p["same"])) for p in pairs]
    rows = []
    for name, measure in ALTERNATIVES.items():
        scored = [(measure(a, b) if differ(a, b) is None else 0.0, same) for a, b, same in signed]
        best: dict[str, Any] | None = None
        for step in range(5, 96):
            threshold = step / 100
            tp = sum(s >= threshold and same for s, same in scored)
            fp = sum(s >= threshold and not same for s, same in scored)
            fn = sum(s < threshold and same for s, same in scored)
            precision = tp / (tp + fp) if tp + fp else 1.0
            recall = tp / (tp + fn) if tp + fn else 1.0
            f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
            if precision < 0.95:
                continue
            if best is None or f1 > best["f1"]:
                best = {"threshold": threshold, "up_to": threshold, "f1": f1}
                best |= {"precision": precision, "recall": recall}
            elif f1 == best["f1"]:
                best["up_to"] = threshold
        rows.append({"method": name, **(best or {"threshold": None})})
    return rows


# --------------------------------------------------------------------------- speed

_LATIN = [f"w{i}" for i in range(20_000)]
_HAN = [chr(0x4E00 + i) for i in range(3_000)]


def _zipf(rng: random.Random, vocabulary: list[str], n: int) -> list[str]:
    # Rank r drawn with probability ~ 1/r: a few very common words, a long tail.
    size = len(vocabulary)
    return [vocabulary[min(size - 1, int(size ** rng.random()) - 1)] for _ in range(n)]


def synthetic(rng: random.Random) -> tuple[str, str]:
    """A made-up entry: a title and a summary of Zipf-distributed words (1 in 5 Chinese)."""
    if rng.random() < 0.2:
        return "".join(_zipf(rng, _HAN, 16)), "".join(_zipf(rng, _HAN, 150))
    return " ".join(_zipf(rng, _LATIN, 9)), " ".join(_zipf(rng, _LATIN, 60))


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99) - 1] * 1e6,
        "mean_us": statistics.fmean(ordered) * 1e6,
    }


def timings(entries: int, queries: int, seed: int) -> dict[str, Any]:
    """Per-entry signature, find and add times with ``entries`` already indexed."""
    rng = random.Random(seed)  # noqa: S311 - made-up texts, not secrets
    start = datetime(2026, 1, 1, tzinfo=dt.UTC)
    index = StoryIndex()
    step = timedelta(hours=48) / entries
    built = time.perf_counter()
    for i in range(entries):
        title, summary = synthetic(rng)
        at = start + i * step
        index.add(i, f"example.com/{i}", signature(title, summary), at)
    build_s = time.perf_counter() - built
    texts = [synthetic(rng) for _ in range(queries)]
    # A tenth of the queries are near copies of indexed-like texts: they join a story.
    for n in range(0, queries, 10):
        title, summary = texts[n]
        index.add(entries + n, None, signature(title, summary), start + entries * step)
        texts[n] = (title, summary + " extra words")
    sign, find, add = [], [], []
    joined = 0
    now = start + entries * step
    gc.collect()
    for n, (title, summary) in enumerate(texts):
        t0 = time.perf_counter()
        s = signature(title, summary)
        t1 = time.perf_counter()
        found = index.find(f"other.example/{n}", s, now)
        t2 = time.perf_counter()
        index.add(entries + queries + n, f"other.example/{n}", s, now)
        t3 = time.perf_counter()
        sign.append(t1 - t0)
        find.append(t2 - t1)
        add.append(t3 - t2)
        joined += found is not None
    per_entry = [a + b + c for a, b, c in zip(sign, find, add, strict=True)]
    huge = "tariff truce rare earth " * (1_000_000 // 24)
    t0 = time.perf_counter()
    signature("x" * 1_000_000, huge)
    huge_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    expired = index.expire(start + timedelta(hours=24))
    expire_s = time.perf_counter() - t0
    return {
        "indexed": entries,
        "queries": queries,
        "build_s": build_s,
        "signature": _stats(sign),
        "find": _stats(find),
        "add": _stats(add),
        "per_entry": _stats(per_entry),
        "joined": joined,
        "signature_1mb_ms": huge_s * 1e3,
        "expire": {"entries": expired, "ms": expire_s * 1e3},
    }


# --------------------------------------------------------------------------- report


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Story grouping (`notifier.stories`)",
        "",
        f"Measured on {result['date']} on {m['cpu_model']} ({m['cpu_count']} cores), "
        f"{m['platform']}, Python {m['python']}; load average at start "
        f"{m['load_average_at_start']}. Threshold {result['threshold']:g}.",
        "",
        "## Quality on the labelled pairs (`tests/cases/stories/`)",
        "",
        "The decision a `StoryIndex` makes (same canonical link, else near-duplicate text), "
        "and the text alone (links ignored).",
        "",
        "| split | decision | pairs | precision | recall | F1 | TP | FP | FN | TN |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split in SPLITS:
        for kind in ("links_and_text", "text_only"):
            r = result["quality"][split][kind]
            lines.append(
                f"| {split} | {kind.replace('_', ' ')} | {r['pairs']} | {r['precision']:.3f} | "
                f"{r['recall']:.3f} | {r['f1']:.3f} | {r['tp']} | {r['fp']} | {r['fn']} | "
                f"{r['tn']} |"
            )
    for split in SPLITS:
        wrong = result["quality"][split]["links_and_text"]["wrong"]
        lines += ["", f"### Misclassified on {split} ({len(wrong)})", ""]
        for w in wrong:
            label = "missed (same story)" if w["expected"] else "wrongly joined"
            lines.append(
                f"- {label}: “{w['a']}” / “{w['b']}” — {w['reason']} ({w['source']}: {w['note']})"
            )
    if result.get("sweep"):
        lines += [
            "",
            "## Alternatives on dev (text only, with the changed-fact rules)",
            "",
            "Best F1 with precision ≥ 0.95, and the thresholds that give it.",
            "",
            "| method | thresholds | precision | recall | F1 |",
            "| --- | --- | --- | --- | --- |",
        ]
        for row in result["sweep"]:
            if row["threshold"] is None:
                lines.append(f"| {row['method']} | — | — | — | — |")
            else:
                lines.append(
                    f"| {row['method']} | {row['threshold']:.2f}–{row['up_to']:.2f} | "
                    f"{row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} |"
                )
    t = result["timing"]
    lines += [
        "",
        f"## Speed: {t['indexed']:,} entries indexed, {t['queries']:,} new entries",
        "",
        f"Building the index took {t['build_s']:.1f} s. Per new entry (µs):",
        "",
        "| step | median | p99 | mean |",
        "| --- | --- | --- | --- |",
    ]
    for step in ("signature", "find", "add", "per_entry"):
        s = t[step]
        lines.append(
            f"| {step.replace('_', ' ')} | {s['median_us']:.0f} | {s['p99_us']:.0f} | "
            f"{s['mean_us']:.0f} |"
        )
    lines += [
        "",
        f"{t['joined']} of the {t['queries']:,} new entries joined a story (a tenth were "
        f"near copies). `signature` of a 1 MB title and a 1 MB summary: "
        f"{t['signature_1mb_ms']:.2f} ms. `expire` of {t['expire']['entries']:,} entries: "
        f"{t['expire']['ms']:.0f} ms.",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict[str, Any]:
    quality = {
        split: {
            "links_and_text": score(load(split)),
            "text_only": score(load(split), links=False),
        }
        for split in SPLITS
    }
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "threshold": stories.THRESHOLD,
        "quality": quality,
        "sweep": sweep(load("dev")) if args.sweep else None,
        "timing": timings(args.entries, args.queries, args.seed),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stories.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "stories.md").write_text(markdown(result), encoding="utf-8")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stories", description=__doc__)
    parser.add_argument("--entries", type=int, default=50_000, help="entries indexed first")
    parser.add_argument("--queries", type=int, default=2_000, help="new entries timed")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sweep", action="store_true", help="also the alternatives on dev")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    if args.entries < 1 or args.queries < 100:
        parser.error("--entries must be 1 or more, --queries 100 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    result = run(parse_args(argv))
    sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
