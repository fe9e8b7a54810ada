"""The live index (#23): publish → searchable, a large build, its memory, search latency.

    .venv/bin/python benchmarks/publish_live.py stack [--publishes 10]      # publish → searchable, local stack
    .venv/bin/python benchmarks/publish_live.py large [--articles 2000]     # build, memory, search latency

``stack`` starts its own local stack (moto, ``chalice local``, the event runner: ``devtools/stack.py``, free ports,
the demo seed imported into content); each publish goes through the product: the demo ``editor`` (kb-editor) PUTs a
new sentence into one article and submits it, the demo ``lead`` (senior-support) publishes it (202 + build id: the
build queue, the build function, the live pointer), and ``GET /kb/search`` is polled every 0.2 s until the sentence
is found. Timed from the publish request. Prints p50 and max seconds (goal ≤ 30 s p50, ≤ 60 s max).

``large`` writes N generated articles (``build_large.py``'s generator, seeded), times the build function's work
(``builds.build_archive``: parse, build, archive) with a same-run yardstick (jieba's stock dictionary load in a
fresh process, as ``cold_start.py --yardstick``), measures what a container holds for that index once opened and
warmed (tracemalloc, and the RSS delta), and compares search latency on the swapped-in live index with the same
index opened the packaged way (same process, same queries, alternated rounds).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------- publish → searchable on the local stack
def stack(publishes: int) -> int:
    import requests

    from devtools.stack import LocalStack, free_port

    slug, base = "repayment-failed", "/support/kb/articles"
    env = {"KB_LIVE_REFRESH_SECONDS": "5"}
    seconds = []
    with LocalStack(port=free_port(), moto_port=free_port(), extra_env=env, seed=True, quiet=True) as local:
        editor = {"Authorization": f"Bearer {local.token('editor', 'kb-editor')}"}
        lead = {"Authorization": f"Bearer {local.token('lead', 'senior-support')}"}
        url = f"{local.api_url}{base}/{slug}"

        def call(method: str, path: str, who: dict, **kw) -> dict:
            answer = requests.request(method, path, headers={**who, **kw.pop("headers", {})}, timeout=30, **kw)
            if answer.status_code >= 300:
                raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
            return answer.json()

        original = call("GET", url, editor)["text"]
        for n in range(publishes):
            word = "".join(random.Random(n).sample("熊猫松鼠海豚企鹅骆驼孔雀仙鹤麋鹿", 4)) + f"第{n}号通告"
            current = call("GET", url, editor)
            change = {**{k: original[k] for k in ("title", "category", "tags", "questions")},
                      "body": original["body"] + f"\n\n{word}。", "note": f"benchmark {n}"}
            call("PUT", url, editor, json=change, headers={"If-Match": str(current["version"])})
            call("POST", f"{url}/submit", editor, json={})
            started = time.perf_counter()     # the lead presses 发布
            call("POST", f"{url}/publish", lead)
            while True:
                found = requests.get(f"{local.api_url}/kb/search?q={quote(word)}", timeout=10).json()
                if any(r["slug"] == slug and f"第{n}号" in re.sub(r"<[^>]+>", "", r["snippet"])
                       for r in found.get("results", [])):
                    break
                if time.perf_counter() - started > 180:
                    print(f"publish {n}: not searchable after 180 s", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            seconds.append(time.perf_counter() - started)
            print(f"publish {n}: searchable after {seconds[-1]:.1f} s", flush=True)
    print(f"publish → searchable over {publishes}: p50 {statistics.median(seconds):.1f} s, "
          f"max {max(seconds):.1f} s (goal ≤ 30 s p50, ≤ 60 s max)")
    return 0


# --------------------------------------------------------------- a large build, its memory, search latency
def large(count: int, seed: int, rounds: int, data: Path | None) -> int:
    from build_large import DEFAULT_DATA, write_corpus
    from cold_start import jieba_yardstick

    from chalicelib.search import builds, live
    from chalicelib.search.index import KbIndex

    work = Path(tempfile.mkdtemp(prefix="kb-large-"))
    write_corpus(work / "src", count, seed, data or DEFAULT_DATA)
    sources = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((work / "src").glob("*.md"))]
    yardstick = statistics.median(jieba_yardstick(sys.executable, 3)) / 1000
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    archive, built = builds.build_archive(sources)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    print(f"build of {built} articles (parse, build, archive): {wall:.1f} s wall, {cpu:.1f} s CPU; archive "
          f"{len(archive) / 1e6:.1f} MB; yardstick (jieba dictionary load) {yardstick:.2f} s → "
          f"{wall / yardstick:.1f} yardsticks (goal ≤ 20 s)")

    queries = [text.split("\n---", 1)[0].split("title: ", 1)[1].split("\n", 1)[0].strip('"')[:20]
               for _, text in random.Random(seed).sample(sources, 200)]
    rss0 = rss_mb()
    tracemalloc.start()
    index = KbIndex(live.unpack(archive, work / "live"))
    for q in queries:
        index.search(q, category=None, limit=10)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"memory a container holds for it (opened, 200 searches warmed): {held / 1e6:.1f} MB traced, "
          f"RSS +{rss_mb() - rss0:.1f} MB")

    live.unpack(archive, work / "packaged")
    packaged = KbIndex(work / "packaged")   # the same files opened the way the shipped index is
    for q in queries:
        packaged.search(q, category=None, limit=10)
    times: dict[str, list[float]] = {"packaged": [], "live": []}
    for _ in range(rounds):
        for name, which in (("packaged", packaged), ("live", index)):
            for q in queries:
                t = time.perf_counter()
                which.search(q, category=None, limit=10)
                times[name].append((time.perf_counter() - t) * 1000)
    for name, values in times.items():
        print(f"search on the {name} index: p50 {statistics.median(values):.2f} ms, "
              f"p95 {percentile(values, 0.95):.2f} ms ({len(values)} searches)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("stack")
    s.add_argument("--publishes", type=int, default=10)
    g = sub.add_parser("large")
    g.add_argument("--articles", type=int, default=2000)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--rounds", type=int, default=3)
    g.add_argument("--data", type=Path, default=None, help="the ATEC FAQ folder (build_large.py's --data)")
    args = parser.parse_args(argv)
    if args.what == "stack":
        return stack(args.publishes)
    return large(args.articles, args.seed, args.rounds, args.data)


if __name__ == "__main__":
    sys.exit(main())
