"""Index build at scale: 10,000 synthetic articles through the real CLI.

Writes N Markdown articles (the KB's YAML front matter: slug, title, category, questions,
tags, updated) into a temporary folder, then runs
``python -m chalicelib.search build --source TMP --out TMP/index --timings`` as a subprocess
and prints its wall time, the build's own phase split (and, inside "read+analyse", the
CPU seconds the worker processes spent reading/parsing, rendering Markdown, analysing and
building postings, summed over the processes), the CPU time of the whole build (user + sys of
every process: less sensitive to other work on the machine than wall time) and the index size.

    .venv/bin/python benchmarks/build_large.py [--articles 10000] [--runs 3] [--seed 7]

Titles and ``questions`` are real customer-service questions drawn from
``../shared/datasets/atec_faq/entries.jsonl`` (read where it lives, never copied into the
repository); bodies (300–1,500 characters) are paragraphs of the KB's own articles (``kb/*.md``)
interleaved with more of those questions as sub-headings, so the text is realistic Chinese
Markdown (headings, numbered steps, tables). The RNG is seeded: the same seed gives the same
articles byte for byte.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "atec_faq"
CATEGORIES = ("contact", "repayment", "security", "escalation", "about")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)


def kb_material(kb: Path) -> tuple[list[str], list[str]]:
    """(Markdown blocks of every KB article body, every tag) — the body building blocks."""
    import yaml

    blocks, tags = [], []
    for path in sorted(kb.glob("*.md")):
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        if not match:
            continue
        meta = yaml.safe_load(match.group(1)) or {}
        tags.extend(str(t) for t in meta.get("tags") or [])
        blocks.extend(b.strip() for b in re.split(r"\n\s*\n", match.group(2)) if b.strip())
    return blocks, sorted(set(tags))


def yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def compose_article(i: int, rng: random.Random, questions: list[str], blocks: list[str],
                    tags: list[str]) -> str:
    title, *asked = rng.sample(questions, rng.randint(2, 6))
    target = rng.randint(300, 1500)
    body: list[str] = []
    length = 0
    while length < target:
        if rng.random() < 0.3:
            piece = "## " + rng.choice(questions)
        else:
            piece = rng.choice(blocks)
        if length + len(piece) > 1500 and length >= 300:
            break
        body.append(piece)
        length += len(piece)
    if length > 1500:  # a single long block: cut at a line end within the limit
        text = "\n\n".join(body)[:1500]
        body = [text.rsplit("\n", 1)[0] if "\n" in text else text]
    front = [
        "---",
        f"slug: article-{i:05d}",
        f"title: {yaml_string(title)}",
        f"category: {CATEGORIES[i % len(CATEGORIES)]}",
        "questions:",
        *(f"  - {yaml_string(q)}" for q in asked),
        f"tags: [{', '.join(yaml_string(t) for t in rng.sample(tags, rng.randint(0, 5)))}]",
        f'updated: "2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"',
        "---",
    ]
    return "\n".join(front) + "\n" + "\n\n".join(body) + "\n"


def write_corpus(folder: Path, count: int, seed: int, data: Path) -> int:
    """Writes ``count`` articles into ``folder``; returns the total body characters."""
    entries = [json.loads(line) for line in (data / "entries.jsonl").open(encoding="utf-8") if line.strip()]
    questions = [q for e in entries for q in e["questions"] if q.strip()]
    blocks, tags = kb_material(ROOT / "kb")
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    for i in range(count):
        text = compose_article(i, rng, questions, blocks, tags)
        chars += len(text)
        (folder / f"article-{i:05d}.md").write_text(text, encoding="utf-8")
    return chars


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_build(source: Path, out: Path) -> tuple[float, float, dict, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chalicelib.search", "build", "--source", str(source),
                           "--out", str(out), "--timings"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and every process it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"build failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    phases, steps = {}, {}
    for line in done.stdout.splitlines():
        if line.startswith("timings "):
            phases = json.loads(line[len("timings "):])
        elif line.startswith("worker-timings "):
            steps = json.loads(line[len("worker-timings "):])
    return wall, cpu, phases, steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", type=Path, help="write the articles here and keep them (default: a temp folder)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="build-large-") as tmp:
        source = args.keep or Path(tmp) / "articles"
        out = Path(tmp) / "index"
        started = time.perf_counter()
        chars = write_corpus(source, args.articles, args.seed, args.data)
        print(f"wrote {args.articles} articles ({chars / args.articles:,.0f} characters each on average, "
              f"front matter included) in {time.perf_counter() - started:.1f} s; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        walls, cpus, all_phases = [], [], []
        for run in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            wall, cpu, phases, steps = run_build(source, out)
            walls.append(wall)
            cpus.append(cpu)
            all_phases.append(phases)
            split = ", ".join(f"{name} {seconds:.1f}" for name, seconds in phases.items())
            inside = ", ".join(f"{name} {seconds:.1f}" for name, seconds in steps.items())
            print(f"run {run} (load average {load:.2f} before): {wall:.1f} s wall, {cpu:.1f} s CPU "
                  f"(user+sys, all processes) — {split}; inside read+analyse, worker CPU seconds: {inside}")
        size = dir_size(out)
        whoosh = sum(p.stat().st_size for p in out.iterdir() if p.suffix in (".seg", ".toc") or p.name.startswith("_"))
        print(f"index {size / 1e6:.1f} MB ({whoosh / 1e6:.1f} MB Whoosh files, "
              f"{len([p for p in out.iterdir() if p.suffix == '.seg'])} segment(s))")
        print(f"median of {len(walls)}: {statistics.median(walls):.1f} s wall "
              f"(min {min(walls):.1f}, max {max(walls):.1f}), {statistics.median(cpus):.1f} s CPU; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if all_phases and all_phases[0]:
            medians = {k: statistics.median(p.get(k, 0.0) for p in all_phases) for k in all_phases[0]}
            print("median phases (s): " + ", ".join(f"{k} {v:.1f}" for k, v in medians.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
