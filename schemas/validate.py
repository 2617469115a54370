#!/usr/bin/env python3
"""Validates JSON against the wire format v1 schemas in this folder.

Usage: validate.py FILE.jsonl...            events, one a line, each against its type's schema
       validate.py --report NAME FILE.json  a report (scores, accountability, audit, history, units, dossier)
Prints, for every line or document, "N ok" or "N invalid: REASON", and exits 1 if any is
invalid. Needs the `jsonschema` package (4.18 or later).
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = pathlib.Path(__file__).resolve().parent / "v1"


def validators():
    resources = []
    for path in sorted(HERE.glob("*.schema.json")) + sorted(HERE.glob("reports/*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    result = {}
    for uri, resource in resources:
        name = uri.removeprefix("urn:kinerja:schema:v1:")
        if name != "common":
            Draft202012Validator.check_schema(resource.contents)
            result[name] = Draft202012Validator(resource.contents, registry=registry)
    return result


def main(paths):
    by_type = validators()
    if paths and paths[0] == "--report":
        validator = by_type["report:" + paths[1]]
        failed = False
        for number, path in enumerate(paths[2:], 1):
            with open(path, encoding="utf-8") as handle:
                errors = sorted(validator.iter_errors(json.load(handle)), key=lambda e: list(e.path))
            if errors:
                where = "/".join(str(p) for p in errors[0].path) or "(document)"
                print(f"{number} invalid: {where}: {errors[0].message[:200]}")
                failed = True
            else:
                print(f"{number} ok")
        return 1 if failed else 0
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError as error:
                    print(f"{number} invalid: not JSON: {error}")
                    failed = True
                    continue
                validator = by_type.get(event.get("type")) if isinstance(event, dict) else None
                if validator is None:
                    print(f"{number} invalid: no schema for type {event.get('type') if isinstance(event, dict) else None!r}")
                    failed = True
                    continue
                errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
                if errors:
                    where = "/".join(str(p) for p in errors[0].path) or "(event)"
                    print(f"{number} invalid: {where}: {errors[0].message[:200]}")
                    failed = True
                else:
                    print(f"{number} ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
