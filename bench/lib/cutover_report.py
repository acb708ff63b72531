#!/usr/bin/python3
"""Summarises a bench/cutover.sh run: one row per mode, as Markdown and JSON.

Reads, per mode, from the results directory:
  MODE.load.json  bench/load.lua's output (wrk totals, statuses, versions seen)
  MODE.cutovers   one line per cutover: k version started_ms finished_ms exit ready_ms boot_ms
                  (boot_ms: the service's own boot, process start to ready, as it printed it)
and writes results.json and summary.md beside them, printing the Markdown.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path


def median(values):
    return statistics.median(values) if values else None


def summarise(results: Path, mode: str) -> dict:
    load = json.loads((results / f"{mode}.load.json").read_text())
    cutovers = []
    for line in (results / f"{mode}.cutovers").read_text().splitlines():
        k, version, started, finished, status, ready, boot = line.split()
        seen = load["versions"].get(version)
        boot = int(boot) or None
        cutovers.append({
            "k": int(k),
            "version": version,
            "exit": int(status),
            "deploy_ms": int(finished) - int(started),
            "cutover_ms": seen["first_ms"] - int(started) if seen else None,
            "ready_after_start_ms": int(ready) - int(started) if int(ready) else None,
            "after_ready_ms": int(finished) - int(ready) if int(ready) else None,
            "boot_ms": boot,
            "overhead_ms": int(finished) - int(started) - boot if boot else None,
        })
    phases = phase_medians(results / f"{mode}.history.jsonl", {c["version"] for c in cutovers})
    errors = load["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    duration_s = load["duration_us"] / 1e6
    boot_ms = median([c["boot_ms"] for c in cutovers if c["boot_ms"] is not None])
    deploy_ms = median([c["deploy_ms"] for c in cutovers])
    cutover_times = [c["cutover_ms"] for c in cutovers if c["cutover_ms"] is not None]
    return {
        "mode": mode,
        "cutovers": len(cutovers),
        "failed_deploys": sum(1 for c in cutovers if c["exit"] != 0),
        "never_served": sum(1 for c in cutovers if c["cutover_ms"] is None),
        "requests": load["requests"],
        "duration_s": round(duration_s, 1),
        "requests_per_s": round(load["requests"] / duration_s) if duration_s else 0,
        "non_2xx": load["non_2xx"],
        "statuses": load["statuses"],
        "no_version": load["no_version"],
        "socket_errors": socket_errors,
        "errors": errors,
        "p99_ms": round(load["latency_us"]["p99"] / 1000, 1),
        "cutover_ms_median": median(cutover_times),
        "cutover_ms_max": max(cutover_times) if cutover_times else None,
        "deploy_ms_median": deploy_ms,
        "boot_ms_median": boot_ms,
        "overhead_ms_median": median([c["overhead_ms"] for c in cutovers if c["overhead_ms"] is not None]),
        "overhead_ms_max": max([c["overhead_ms"] for c in cutovers if c["overhead_ms"] is not None], default=None),
        "after_ready_ms_median": median([c["after_ready_ms"] for c in cutovers if c["after_ready_ms"] is not None]),
        "phase_ms_medians": phases,
        "per_cutover": cutovers,
    }


def phase_medians(history: Path, versions: set) -> dict:
    """Median duration of each phase switch-traffic records in history.jsonl
    (fetch, boot, healthy, switched, drained), over the measured cutovers."""
    if not history.exists():
        return {}
    by_phase = {}
    for line in history.read_text().splitlines():
        record = json.loads(line)
        if record.get("action") != "deploy" or record.get("version") not in versions:
            continue
        for phase, ms in record.get("durations_ms", {}).items():
            by_phase.setdefault(phase, []).append(ms)
    return {phase: median(values) for phase, values in by_phase.items()}


def fmt(value, unit=""):
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{unit}"


def markdown(rows: list, cutovers: int, connections: int) -> str:
    lines = [
        f"Each mode: {cutovers} cutovers under constant load through nginx "
        f"(wrk, {connections} keep-alive connections, GET / and POST /echo alternating). Times are medians; "
        "service boot is the service's own, process start to ready, and overhead is deploy time minus it.",
        "",
        "| mode | requests | req/s | non-2xx | socket errors | p99 | cutover time (max) | deploy time | service boot | overhead (max) | failed deploys |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        e = r["errors"]
        errors = f"{r['socket_errors']}"
        if r["socket_errors"]:
            errors += f" (connect {e['connect']}, read {e['read']}, write {e['write']}, timeout {e['timeout']})"
        lines.append(
            f"| {r['mode']} | {r['requests']} | {r['requests_per_s']} | {r['non_2xx']} | {errors} | "
            f"{fmt(r['p99_ms'], ' ms')} | {fmt(r['cutover_ms_median'], ' ms')} ({fmt(r['cutover_ms_max'], ' ms')}) | "
            f"{fmt(r['deploy_ms_median'], ' ms')} | {fmt(r['boot_ms_median'], ' ms')} | "
            f"{fmt(r['overhead_ms_median'], ' ms')} ({fmt(r['overhead_ms_max'], ' ms')}) | "
            f"{r['failed_deploys'] + r['never_served']} |")
    by_mode = {r["mode"]: r for r in rows}
    if "baseline" in by_mode:
        base = by_mode["baseline"]
        for mode in ("reload", "seamless"):
            other = by_mode.get(mode)
            if other and other["cutover_ms_median"] and base["cutover_ms_median"]:
                lines.append("")
                lines.append(
                    f"Cutover time, baseline / {mode}: "
                    f"{base['cutover_ms_median'] / other['cutover_ms_median']:.1f}x; "
                    f"failed requests (non-2xx + socket errors), baseline {base['non_2xx'] + base['socket_errors']} "
                    f"vs {mode} {other['non_2xx'] + other['socket_errors']}.")
    phase_lines = [f"- {r['mode']}: " + ", ".join(f"{phase} {fmt(ms, ' ms')}" for phase, ms in r["phase_ms_medians"].items())
                   for r in rows if r["phase_ms_medians"]]
    if phase_lines:
        lines += ["", "Where switch-traffic's time goes (medians of the phases it records in history.jsonl):", ""]
        lines += phase_lines
    lines += bars(by_mode)
    return "\n".join(lines) + "\n"


def bars(by_mode: dict) -> list:
    """Issue 4's bars, each said plainly as met or missed."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = ["", "Bars (issue 4):", ""]
    seamless = by_mode.get("seamless")
    if seamless:
        failed = seamless["non_2xx"] + seamless["socket_errors"] + seamless["no_version"]
        ok = failed == 0 and seamless["requests_per_s"] >= 3000 and seamless["failed_deploys"] == 0
        lines.append(f"- seamless: 0 failed requests over {seamless['cutovers']} cutovers at >= 3,000 req/s: "
                     f"{failed} failed at {seamless['requests_per_s']} req/s: {verdict(ok)}")
    reload = by_mode.get("reload")
    if reload:
        lines.append(f"- reload: 0 non-2xx: {reload['non_2xx']}: {verdict(reload['non_2xx'] == 0)} "
                     f"(socket errors: {reload['socket_errors']})")
    for mode in ("reload", "seamless"):
        row = by_mode.get(mode)
        if row and row["overhead_ms_median"] is not None:
            lines.append(f"- {mode}: deploy overhead <= 1 s beyond the service's boot: median "
                         f"{fmt(row['overhead_ms_median'], ' ms')}, worst {fmt(row['overhead_ms_max'], ' ms')}: "
                         f"{verdict(row['overhead_ms_median'] <= 1000)}")
    return lines if len(lines) > 3 else []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--modes", required=True)
    parser.add_argument("--cutovers", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if not modes:
        print("cutover: no mode ran; see the messages above", file=sys.stderr)
        return 1
    rows = [summarise(args.results, m) for m in modes]
    (args.results / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = markdown(rows, args.cutovers, args.connections)
    (args.results / "summary.md").write_text(text)
    print(text, end="")
    print(f"(raw results: {args.results})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
