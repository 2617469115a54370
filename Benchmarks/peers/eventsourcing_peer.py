"""The Python `eventsourcing` library (9.x) with its SQLite persistence: a peer of the ledger in
kinerja-bench. Run by `kinerja-bench run`; each command prints one `RESULT {json}` line.

    python3 eventsourcing_peer.py import INPUT.jsonl DB --batch N
    python3 eventsourcing_peer.py replay DB
    python3 eventsourcing_peer.py writer INPUT.jsonl DB --batch N

Import: each JSON line is parsed (json.loads, no validation beyond JSON syntax), becomes an event
of the aggregate of its subject (one aggregate per employee or unit, as in the library's guide),
and every `--batch` lines the touched aggregates are saved with `Application.save`, one SQLite
transaction. The aggregates stay in memory between batches (no reloading from the store): this
favours the peer. Replay: the application's notification log, read section by section, each
notification mapped back to its domain event and folded into current scores (with corrections)
and training hours, a subset of the ledger's projections, which also favours the peer.
"""

import json
import os
import resource
import sys
import time
import uuid

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid.UUID("5b1d0b5e-6b8c-4b53-9d53-4b1a2f3e7c11")


class Subject(Aggregate):
    """One employee's or one unit's events."""

    @staticmethod
    def create_id(stream: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, stream)

    def __init__(self, stream: str):
        self.stream = stream

    @event("Recorded")
    def record(self, wire: dict) -> None:
        pass


class Ledger(Application):
    pass


def application(path: str) -> Ledger:
    os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
    os.environ["SQLITE_DBNAME"] = path
    os.environ["SQLITE_LOCK_TIMEOUT"] = "60"
    return Ledger()


def stream_of(wire: dict) -> str:
    employee = wire.get("employee")
    return ("employee/" + employee) if employee is not None else ("unit/" + wire["unit"])


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def written_mib() -> float:
    """What the process has caused to be written to storage (`write_bytes` of /proc/self/io)."""
    try:
        with open("/proc/self/io") as io:
            for line in io:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1]) / 1048576
    except OSError:
        pass
    return float("nan")


def result(**fields) -> None:
    fields["rss_mib"] = peak_rss_mib()
    fields["written_mib"] = written_mib()
    print("RESULT " + json.dumps(fields), flush=True)


def append(path: str, db: str, batch: int) -> int:
    app = application(db)
    aggregates: dict[str, Subject] = {}
    touched: dict[str, Subject] = {}
    count = 0
    with open(path, "rb") as lines:
        for line in lines:
            wire = json.loads(line)
            stream = stream_of(wire)
            aggregate = aggregates.get(stream)
            if aggregate is None:
                aggregate = aggregates[stream] = Subject(stream)
            aggregate.record(wire)
            touched[stream] = aggregate
            count += 1
            if count % batch == 0:
                app.save(*touched.values())
                touched.clear()
    if touched:
        app.save(*touched.values())
    return count


def replay(db: str) -> tuple[int, int, int]:
    app = application(db)
    log = app.notification_log
    scored_by: dict[str, tuple[str, str]] = {}
    scores: dict[tuple[str, str], tuple[str, str, str]] = {}
    hours: dict[tuple[str, int], float] = {}
    events = 0
    start = 1
    while True:
        section = log.select(start, limit=log.section_size)
        if not section:
            break
        for notification in section:
            domain_event = app.mapper.to_domain_event(notification)
            start = notification.id + 1
            wire = getattr(domain_event, "wire", None)
            if wire is None:
                continue
            events += 1
            kind = wire["type"]
            data = wire["data"]
            employee = wire.get("employee")
            if kind == "score.given":
                key = (employee, data["period"])
                scored_by[wire["id"]] = key
                scores[key] = (data["results_rating"], data["behavior_rating"], wire["id"])
            elif kind == "score.corrected":
                key = scored_by.get(data["corrects"])
                if key is not None:
                    scored_by[wire["id"]] = key
                    scores[key] = (data["results_rating"], data["behavior_rating"], wire["id"])
            elif kind == "training.completed":
                key = (employee, int(data["completed_on"][:4]))
                hours[key] = hours.get(key, 0.0) + data["hours"]
    return events, len(scores), len(hours)


def main() -> None:
    command, arguments = sys.argv[1], sys.argv[2:]
    batch = int(arguments[arguments.index("--batch") + 1]) if "--batch" in arguments else 10_000
    if command in ("import", "writer"):
        source, db = arguments[0], arguments[1]
        started = time.perf_counter()
        count = append(source, db, batch)
        seconds = time.perf_counter() - started
        size = sum(os.path.getsize(db + suffix) for suffix in ("", "-wal") if os.path.exists(db + suffix))
        result(events=count, seconds=seconds, bytes=size)
    elif command == "replay":
        db = arguments[0]
        started = time.perf_counter()
        events, scores, hours = replay(db)
        seconds = time.perf_counter() - started
        result(events=events, seconds=seconds, scores=scores, training=hours)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
