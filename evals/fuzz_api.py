"""`atiende eval api`: schemathesis over the app's own OpenAPI, every admin and webhook route.

Starts `atiende serve` on loopback (the embedded default, or DATABASE_URL's Postgres, with a
known admin key and Twilio token), then runs schemathesis with every check and every phase
(examples, coverage, fuzzing, stateful) twice: authenticated (the admin key; webhooks get a
real Twilio signature) and unauthenticated. Schemathesis lives in its own venv,
`.venv-schemathesis`, made here from evals/schemathesis/requirements.txt: it needs packages
that langgraph-api does not allow, so it never enters requirements.lock.

Prints a table per run, then JSON as the last line: cases, server_errors, schema_violations
and failures (every check) per run. Exit code 1 when any check failed.

    atiende eval api [--max-examples 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.bench_server import BENCH_ADMIN_KEY, BENCH_TOKEN, bench_server, report, serve_command

HERE = Path(__file__).resolve().parent / "schemathesis"
REQUIREMENTS = HERE / "requirements.txt"
CONFIG = HERE / "schemathesis.toml"
VENV = Path(__file__).resolve().parent.parent / ".venv-schemathesis"
ROUTES = "^/(admin|webhooks)/"
SCHEMA_VIOLATIONS = {
    "JsonSchemaError",
    "UndefinedStatusCode",
    "UndefinedContentType",
    "MissingContentType",
    "MalformedMediaType",
    "MalformedJson",
    "MissingHeaders",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atiende eval api", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=20, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1, help="schemathesis's random seed")
    parser.add_argument("--venv", type=Path, default=VENV, help="where schemathesis is installed")
    return parser


def ensure_venv(venv: Path) -> Path:
    """The schemathesis command of `venv`, created or refreshed from REQUIREMENTS."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / "requirements.sha256"
    command = venv / "bin" / "schemathesis"
    if not command.exists() or not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return command


def failure_details(output: str, width: int = 400) -> str:
    """The FAILURES section of schemathesis's output, long lines (bodies) cut."""
    section = output[output.find("FAILURES") : output.find("SUMMARY")]
    return "\n".join(line[:width] for line in section.splitlines())


def run_schemathesis(
    command: Path, url: str, authenticated: bool, max_examples: int, seed: int, folder: Path
) -> dict[str, Any]:
    """One schemathesis run; its JSON report's figures."""
    name = "authenticated" if authenticated else "unauthenticated"
    report_path = folder / f"{name}.json"
    arguments = [
        str(command),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--include-path-regex",
        ROUTES,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HERE)}
    if authenticated:
        arguments += ["-H", f"Authorization: Bearer {BENCH_ADMIN_KEY}"]
        env |= {"ATIENDE_FUZZ_TWILIO_TOKEN": BENCH_TOKEN, "ATIENDE_FUZZ_PUBLIC_URL": url}
    log = folder / f"{name}.log"
    with log.open("wb") as output:
        subprocess.run(
            arguments, env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    if not report_path.exists():
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise RuntimeError(f"schemathesis wrote no report ({name})")
    found = json.loads(report_path.read_text())
    failures = {f["type"]: int(f["count"]) for f in found["failures"]}
    if failures:  # the details: which case, which check, how to replay it
        print(failure_details(log.read_text(errors="replace")), file=sys.stderr)
    return {
        "cases": int(found["test_cases"]["generated"]),
        "server_errors": failures.get("ServerError", 0),
        "schema_violations": sum(n for kind, n in failures.items() if kind in SCHEMA_VIOLATIONS),
        "failures": sum(failures.values()),
        "failure_types": failures,
        "errors": len(found["errors"]),
        "phases": {phase: info["status"] for phase, info in found["phases"].items()},
        "seconds": round(float(found["running_time"]), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = ensure_venv(args.venv)
    with (
        bench_server(serve_command(), {"WORKER_ENABLED": "false"}) as server,
        tempfile.TemporaryDirectory(prefix="atiende-fuzz-") as folder,
    ):
        runs = {
            name: run_schemathesis(
                command,
                server.url,
                name == "authenticated",
                args.max_examples,
                args.seed,
                Path(folder),
            )
            for name in ("authenticated", "unauthenticated")
        }
    rows = [
        (f"{name} {figure}", value)
        for name, figures in runs.items()
        for figure, value in figures.items()
    ]
    report(
        "schemathesis over the OpenAPI (admin + webhooks, all checks, stateful on)",
        rows,
        {"schemathesis": "4.31.1", "database": server.database.split(":")[0], **runs},
    )
    failed = any(run["failures"] or run["errors"] for run in runs.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
