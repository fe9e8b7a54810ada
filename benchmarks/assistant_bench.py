"""The assistant's understanding and speed on its dev set (docs/assistant.md, "Figures").

Reads ``benchmarks/assistant/devset.tsv`` (intent, utterance), splits it in two halves with a fixed seed
(``SEED``): ``tune`` (the thresholds of ``understand.py`` were chosen on it; ``--grid`` prints the grid) and
``test`` (reported). For each half:

- **accuracy**: the share answered with the right intent straight away (out-of-scope utterances count as
  right when they fall back to the knowledge-base search, as designed);
- **with one question**: right straight away, or a clarifying question whose buttons include the right intent;
- **clarifying share**: the share that got a clarifying question;
- **top-1**: the classifier's first guess alone (no thresholds);

then the latency of ``service.take_turn`` in-process (the in-memory conversations store and units of work,
events checked but not written) over every utterance, and of ``search.service.search`` on the same utterances
in the same run (the baseline), p50/p99 in ms.

    .venv/bin/python benchmarks/assistant_bench.py [--grid] [--rounds N]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.assistant import classifier, intents, understand  # noqa: E402

DEVSET = ROOT / "benchmarks" / "assistant" / "devset.tsv"
SEED = 24


def load(path: Path = DEVSET) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, _, text = line.partition("\t")
        rows.append((intent.strip(), text.strip()))
    return rows


def halves(rows: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    order = list(range(len(rows)))
    random.Random(SEED).shuffle(order)
    middle = len(order) // 2
    return {"tune": [rows[i] for i in sorted(order[:middle])], "test": [rows[i] for i in sorted(order[middle:])]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def right(expected: str, found: understand.Understanding) -> bool:
    if expected == "out_of_scope":
        return found.decision == "search"
    return found.decision == "answer" and found.intent == expected


def evaluate(rows, model, an) -> dict:
    straight = asked = clarified = top1 = 0
    misses = []
    for expected, text in rows:
        found = understand.understand(text, mdl=model, an=an)
        ranked = model.rank(classifier.features(an, text))
        top1 += ranked[0].intent == expected
        if right(expected, found):
            straight += 1
        elif found.decision in ("clarify", "unclear"):
            asked += 1
            clarified += expected in found.options
        else:
            misses.append((expected, found.intent, found.decision, text))
        if right(expected, found) and found.decision in ("clarify", "unclear"):
            asked += 1
    n = len(rows)
    return {"n": n, "accuracy": straight / n, "with_question": (straight + clarified) / n,
            "clarifying": asked / n, "top1": top1 / n, "misses": misses}


def confusion(rows, model, an) -> str:
    """The wrong answers and the clarifying questions that missed the right intent, as ``expected→got ×n``."""
    from collections import Counter
    pairs: Counter = Counter()
    for expected, text in rows:
        found = understand.understand(text, mdl=model, an=an)
        if right(expected, found) or (found.decision in ("clarify", "unclear") and expected in found.options):
            continue
        got = found.intent if found.decision == "answer" else f"{found.decision}:{'/'.join(found.options)}" \
            if found.options else found.decision
        pairs[f"{expected}→{got}"] += 1
    return ", ".join(f"{pair} ×{n}" for pair, n in pairs.most_common())


def grid(rows, an) -> None:
    """Accuracy on the tuning half for a grid of thresholds (the chosen ones are the constants in the code)."""
    known = intents.all_intents()
    for temperature in (0.3, 0.5, 0.7):
        classifier.TEMPERATURE = temperature
        for alpha in (0.1, 0.3, 1.0):
            model = understand.train(an, known)
            model.alpha = alpha
            model = classifier.Model({**model.to_json(), "alpha": alpha})
            for close in (0.3, 0.5, 0.7):
                for below in (0.15, 0.25, 0.35):
                    understand.CLOSE, understand.SEARCH_BELOW = close, below
                    r = evaluate(rows, model, an)
                    print(f"T={temperature} alpha={alpha} close={close} search_below={below}: "
                          f"accuracy {r['accuracy']:.3f} with one question {r['with_question']:.3f} "
                          f"clarifying {r['clarifying']:.3f}")


_KEPT: list = []


def _grounded_twins() -> None:
    """Since the grounded providers (h24b) a signed-in turn reads the user's repayments, bills, notices and
    工单 (and "转人工" opens one): every store on its in-memory twin (empty), as tests/conftest.py ``memory``."""
    from chalicelib.adapters import idempotency, outbox, queues, sms
    from chalicelib.bills import memory_store as bills_memory
    from chalicelib.bills import store as bills_store
    from chalicelib.escalation import repository
    from chalicelib.escalation.memory import MemoryStore
    from chalicelib.notices import store as notices_store
    from chalicelib.repay import memory_store as repay_memory
    from chalicelib.repay import store as repay_store
    from chalicelib.status import memory_store as status_memory
    from chalicelib.status import service as status_service
    from chalicelib.status import store as status_store
    repay_store.use(repay_memory.InMemoryRepayStore())
    bills_store.use(bills_memory.InMemoryBillsStore())
    status_store.use(status_memory.InMemoryStatusStore())
    status_service.reset_cache()
    notices_store.use(notices_store.InMemoryNotices())
    for module, twin in ((outbox, outbox.InMemoryOutbox()), (idempotency, idempotency.InMemoryRecords()),
                         (queues, queues.InMemoryQueues()), (sms, sms.InMemorySms())):
        module.use(twin)
    chosen = repository.use_store(MemoryStore())
    chosen.__enter__()
    _KEPT.append(chosen)          # held for the run (a collected generator would restore the DynamoDB store)


def latency(rows, rounds: int) -> tuple[list[float], list[float]]:
    from chalicelib.adapters import events, unit_of_work
    from chalicelib.assistant import memory_store, service, store
    from chalicelib.kernel import logs
    from chalicelib.kernel.context import Context
    from chalicelib.search import service as search

    events._hand_over = lambda batch: None            # analytics are written off the request thread anyway
    logs.metric = lambda *args, **kwargs: None        # nor print an EMF line per search
    search.metric = logs.metric
    search._queue_analytics = lambda *args: None
    store.use(memory_store.InMemoryConversations())
    unit_of_work.use_memory()
    _grounded_twins()
    turns, searches = [], []
    for _ in range(rounds):
        conversation = None
        for k, (_, text) in enumerate(rows):
            started = time.perf_counter()
            result = service.take_turn(Context.current(), "bench-user", conversation_id=conversation, text=text)
            turns.append((time.perf_counter() - started) * 1000)
            conversation = None if k % 10 == 9 else result.conversation_id
            started = time.perf_counter()
            search.search(text[:search.MAX_QUERY_CHARS], limit=3)
            searches.append((time.perf_counter() - started) * 1000)
    return turns, searches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", action="store_true", help="print the threshold grid on the tuning half")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the dev set for latency (default 2)")
    parser.add_argument("--misses", action="store_true", help="list the held-out utterances answered wrongly")
    parser.add_argument("--confusion", action="store_true",
                        help="per half, which intent was answered (or asked) instead of which (counts, no utterances "
                             "of the held-out half)")
    args = parser.parse_args(argv)
    rows = load()
    parts = halves(rows)
    an = understand.analyzer()
    if args.grid:
        grid(parts["tune"], an)
        return 0
    model = understand.model()
    print(f"dev set: {len(rows)} utterances, {len({i for i, _ in rows})} intents; tune {len(parts['tune'])}, "
          f"test {len(parts['test'])} (seed {SEED})")
    for name in ("tune", "test"):
        r = evaluate(parts[name], model, an)
        print(f"{name}: accuracy {r['accuracy']:.3f}, with one clarifying question {r['with_question']:.3f}, "
              f"clarifying share {r['clarifying']:.3f}, classifier top-1 {r['top1']:.3f}")
        if args.misses and name == "test":
            for miss in r["misses"]:
                print("  miss:", *miss)
        if args.confusion:
            print(f"  {name} confusion (expected → got):", confusion(parts[name], model, an) or "none")
    understand.understand("预热", mdl=model, an=an)
    turns, searches = latency(rows, args.rounds)
    print(f"take_turn ms p50 {statistics.median(turns):.2f} p99 {percentile(turns, .99):.2f} "
          f"(n={len(turns)}); search baseline p50 {statistics.median(searches):.2f} "
          f"p99 {percentile(searches, .99):.2f}")
    ok = statistics.median(turns) <= 30 and percentile(turns, .99) <= 150
    print(f"goal p50 <= 30 ms, p99 <= 150 ms: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
