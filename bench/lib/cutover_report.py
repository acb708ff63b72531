#!/usr/bin/python3
"""Summarises a bench/cutover.sh run: every run (session) of every mode, then
per mode the median and the worst run, then the bars, as Markdown
(summary.md) and JSON (results.json) in the results directory.

A request counts as failed when it was sent and not answered with a 2xx:
non-2xx answers, and wrk's socket errors (connect, read, write, timeout),
which are requests wrk sent or tried to send and never got an answer to.
Each wrk sends one method, so failures are per method.

Reads from the results directory (see bench/cutover.sh): run.txt,
capacity/capacity.json, and per session rROUND-MODE/: meta.txt, cutovers.txt
(phase k version started finished exit old_stopped ready boot health_seen),
closed-{get,post}.json (bench/load.lua), pace.csv (bench/lib/pace.js),
curl-{get,post}.csv, python.csv, java.csv, history.jsonl, drain/.
"""

import argparse
import csv
import json
import math
import statistics
import sys
from pathlib import Path

CLIENTS = ("curl", "python", "java")


def key_values(path: Path) -> dict:
    result = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            result[key] = value
    return result


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def read_cutovers(path: Path) -> list:
    rows = []
    for line in path.read_text().splitlines():
        phase, k, version, started, finished, status, stopped, ready, boot, seen = line.split()
        rows.append({"phase": phase, "k": int(k), "version": version, "started": int(started),
                     "finished": int(finished), "exit": int(status), "old_stopped": int(stopped) or None,
                     "ready": int(ready) or None, "boot": int(boot) or None, "health_seen": int(seen) or None})
    return rows


def old_versions(cutovers: list) -> None:
    """Each cutover's old version: the one live before it (1.0.1 first)."""
    live = "1.0.1"
    for c in cutovers:
        c["old"] = live
        if c["exit"] == 0 and c["phase"] != "unhealthy":
            live = c["version"]


def closed_loop(session: Path, cutovers: list) -> dict:
    result = {"per_method": {}, "requests": 0, "duration_s": 0.0, "versions": {}}
    for method in ("get", "post"):
        path = session / f"closed-{method}.json"
        if not path.exists():
            return {}
        load = json.loads(path.read_text())
        e = load["errors"]
        socket_errors = e["connect"] + e["read"] + e["write"] + e["timeout"]
        result["per_method"][method.upper()] = {
            "answered": load["responses"], "non_2xx": load["non_2xx"], "socket_errors": socket_errors,
            "errors": e, "failed": load["non_2xx"] + socket_errors, "p99_ms": load["latency_us"]["p99"] / 1000,
        }
        result["requests"] += load["requests"]
        result["duration_s"] = max(result["duration_s"], load["duration_us"] / 1e6)
        for version, seen in load["versions"].items():
            merged = result["versions"].setdefault(version, {"count": 0, "first_ms": seen["first_ms"],
                                                             "last_ms": seen["last_ms"]})
            merged["count"] += seen["count"]
            merged["first_ms"] = min(merged["first_ms"], seen["first_ms"])
            merged["last_ms"] = max(merged["last_ms"], seen["last_ms"])
    result["failed"] = sum(m["failed"] for m in result["per_method"].values())
    result["rps"] = round(result["requests"] / result["duration_s"]) if result["duration_s"] else 0
    measured = [c for c in cutovers if c["phase"] == "closed"]
    result["cutovers"] = len(measured)
    for c in measured:
        seen = result["versions"].get(c["version"])
        c["cutover_ms"] = seen["first_ms"] - c["started"] if seen else None
        old = result["versions"].get(c["old"])
        c["old_last_before_end"] = old is None or old["last_ms"] <= c["finished"]
    unhealthy = [c for c in cutovers if c["phase"] == "unhealthy"]
    if unhealthy:
        c = unhealthy[0]
        result["unhealthy"] = {"version": c["version"], "exit": c["exit"],
                               "responses": result["versions"].get(c["version"], {}).get("count", 0)}
    return result


def read_long_log(path: Path) -> dict:
    """nginx's log of the long requests: id -> (status, upstreams, upstream statuses)."""
    entries = {}
    if not path.exists():
        return entries
    for line in path.read_text().splitlines():
        fields = line.split("|")
        if len(fields) != 6:
            continue
        _, method, uri, status, upstreams, upstream_status = fields
        query = uri.partition("?")[2]
        params = dict(p.partition("=")[::2] for p in query.split("&"))
        key = params.get("id") or params.get("big")
        if key:
            entries[key] = {"method": method, "status": status, "upstreams": upstreams,
                            "upstream_status": upstream_status, "resent": "," in upstreams}
    return entries


def read_pace(path: Path) -> list:
    rows = []
    with path.open() as f:
        for row in csv.DictReader(f):
            try:
                rows.append({"kind": row["kind"], "due": float(row["due_ms"]), "end": float(row["end_ms"]),
                             "status": int(row["status"]), "version": row["version"], "error": row["error"],
                             "id": row.get("id")})
            except (KeyError, TypeError, ValueError):
                continue
    return rows


def latency_summary(values):
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "p999": percentile(values, 99.9), "max": max(values) if values else None}


def fixed_rate(session: Path, cutovers: list) -> dict:
    path = session / "pace.csv"
    if not path.exists():
        return {}
    rows = read_pace(path)
    long_log = read_long_log(session / "long.log")
    measured = [c for c in cutovers if c["phase"] == "fixed"]
    windows = []
    for c in measured:
        end = c["old_stopped"] or c["finished"]
        windows.append((c["started"], end))
    ok = lambda r: 200 <= r["status"] <= 299
    failed = {}
    for r in rows:
        entry = failed.setdefault(r["kind"], {"sent": 0, "failed": 0, "errors": {}})
        entry["sent"] += 1
        if not ok(r):
            entry["failed"] += 1
            reason = r["error"] or str(r["status"])
            entry["errors"][reason] = entry["errors"].get(reason, 0) + 1
    short = [r for r in rows if r["kind"] in ("get", "post")]
    in_window = lambda t: any(a <= t <= b for a, b in windows)
    window_lat = [r["end"] - r["due"] for r in short if in_window(r["due"])]
    steady_lat = [r["end"] - r["due"] for r in short if not in_window(r["due"])
                  and not any(a - 1000 <= r["due"] <= b + 1000 for a, b in windows)]
    window_failed = sum(1 for r in rows if in_window(r["due"]) and not ok(r))
    for c, (a, b) in zip(measured, windows):
        new_ends = [r["end"] for r in rows if r["version"] == c["version"]]
        c["switch_ms"] = min(new_ends) if new_ends else None
        old_ends = [r["end"] for r in rows if r["version"] == c["old"]]
        c["old_last_ms"] = max(old_ends) if old_ends else None
        c["old_last_before_end"] = c["old_last_ms"] is None or c["old_last_ms"] <= c["finished"]
        inside = {r["version"] for r in rows if a <= r["end"] <= b and r["version"]}
        c["versions_inside"] = sorted(inside)
        c["inside_ok"] = inside <= {c["old"], c["version"]}
        # After the window and before the next cutover starts: only the new version.
        next_start = min([x["started"] for x in cutovers if x["started"] > b], default=float("inf"))
        after = {r["version"] for r in rows if b < r["due"] and r["end"] < next_start and r["version"]}
        c["versions_after"] = sorted(after)
        c["after_ok"] = after <= {c["version"]}
        switch = c["switch_ms"]
        across = [r for r in rows if r["kind"] in ("slow", "big") and switch and r["due"] <= switch <= r["end"]]
        # Answered 200 by the version whose process accepted it: by old or new,
        # and not resent by nginx to the other slot (two upstreams in its log).
        resent = lambda r: long_log.get(r["id"], {}).get("resent", False)
        c["long_across"] = {kind: {"n": sum(1 for r in across if r["kind"] == kind),
                                   "resent": sum(1 for r in across if r["kind"] == kind and resent(r)),
                                   "ok": sum(1 for r in across if r["kind"] == kind and ok(r) and not resent(r)
                                             and r["version"] in (c["old"], c["version"])),
                                   "by_version": {v: sum(1 for r in across if r["kind"] == kind and r["version"] == v)
                                                  for v in {r["version"] for r in across if r["kind"] == kind}}}
                            for kind in ("slow", "big")}
    duration = (max(r["due"] for r in rows) - min(r["due"] for r in rows)) / 1000 if rows else 0
    resent_total = sum(1 for r in rows if r["kind"] in ("slow", "big") and long_log.get(r["id"], {}).get("resent"))
    return {
        "long_logged": bool(long_log), "long_resent": resent_total,
        "sent": len(rows), "rate_reached": round(sum(1 for r in rows if r["kind"] != "big") / duration) if duration else 0,
        "per_kind": failed, "failed": sum(v["failed"] for v in failed.values()), "window_failed": window_failed,
        "window": latency_summary(window_lat), "steady": latency_summary(steady_lat), "cutovers": len(measured),
    }


def keepalive_clients(session: Path) -> dict:
    result = {}
    sources = {"curl": ["curl-get.csv", "curl-post.csv"], "python": ["python.csv"], "java": ["java.csv"]}
    for client, files in sources.items():
        per_method = {}
        for name in files:
            path = session / name
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                fields = line.split(",")
                if len(fields) != 5 or fields[0] not in ("GET", "POST") or not fields[2].isdigit():
                    continue  # a line cut when the client was stopped
                method, _, status, version, error = fields
                if client == "curl":
                    error = "" if error == "0" else f"curl exit {error}"
                entry = per_method.setdefault(method, {"sent": 0, "failed": 0, "errors": {}, "versions": {}})
                entry["sent"] += 1
                entry["versions"][version] = entry["versions"].get(version, 0) + 1
                if not 200 <= int(status) <= 299:
                    entry["failed"] += 1
                    reason = error or status
                    entry["errors"][reason] = entry["errors"].get(reason, 0) + 1
        if per_method:
            result[client] = per_method
    return result


def drain(session: Path) -> dict:
    directory = session / "drain"
    if not directory.exists():
        return {}
    answers = []
    long_log = read_long_log(session / "long.log")
    for path in sorted(directory.glob("slow-*.txt")):
        text = path.read_text().strip()
        if text:
            fields = text.split(",")
            if len(fields) == 4:
                fields.insert(0, "GET")
            method, status, version, code, seconds = fields
            logged = long_log.get(f"drain-{path.stem.split('-')[1]}", {})
            answers.append({"method": method, "status": int(status), "version": version, "curl_exit": int(code),
                            "seconds": float(seconds), "upstreams": logged.get("upstreams"),
                            "upstream_status": logged.get("upstream_status")})
    log = (directory / "deploy.log").read_text() if (directory / "deploy.log").exists() else ""
    warnings = [line.split(" ", 1)[1] for line in log.splitlines() if "drain_timeout" in line]
    return {"requests": len(answers), "cut": sum(1 for a in answers if a["status"] != 200),
            "resent": sum(1 for a in answers if a["upstreams"] and "," in a["upstreams"]), "answers": answers,
            "log_lines": warnings}


def session_summary(session: Path) -> dict:
    meta = key_values(session / "meta.txt")
    cutovers = read_cutovers(session / "cutovers.txt") if (session / "cutovers.txt").exists() else []
    old_versions(cutovers)
    summary = {"mode": meta.get("mode"), "round": int(meta.get("round", 0)), "meta": meta,
               "failed_session": "failed" in meta}
    summary["closed"] = closed_loop(session, cutovers)
    summary["fixed"] = fixed_rate(session, cutovers)
    summary["clients"] = keepalive_clients(session)
    summary["drain"] = drain(session)
    for c in cutovers:
        c["deploy_ms"] = c["finished"] - c["started"]
        c["overhead_ms"] = c["deploy_ms"] - c["boot"] if c["boot"] and c["exit"] == 0 else None
        c["readiness_ms"] = c["health_seen"] - c["ready"] if c["health_seen"] and c["ready"] else None
    summary["cutovers"] = cutovers
    deploys = [c for c in cutovers if c["phase"] in ("closed", "fixed")]
    summary["failed_deploys"] = sum(1 for c in deploys if c["exit"] != 0)
    summary["cutover_ms"] = [c.get("cutover_ms") for c in deploys if c.get("cutover_ms") is not None]
    # Overhead from the closed-loop cutovers only: in the fixed-rate ones the
    # deploy also waits for the 5 s requests in flight on the old slot.
    summary["overhead_ms"] = [c["overhead_ms"] for c in deploys if c["overhead_ms"] is not None and c["phase"] == "closed"]
    summary["fixed_deploy_ms"] = [c["deploy_ms"] for c in deploys if c["phase"] == "fixed" and c["exit"] == 0]
    summary["readiness_ms"] = [c["readiness_ms"] for c in deploys if c["readiness_ms"] is not None]
    summary["window_ms"] = [(c["old_stopped"] or c["finished"]) - c["started"] for c in deploys]
    checks = [c for c in deploys]
    summary["versions_ok"] = all(c.get("old_last_before_end", True) and c.get("inside_ok", True)
                                 and c.get("after_ok", True) for c in checks) and bool(checks)
    wrong = []
    for c in checks:
        if not c.get("old_last_before_end", True):
            wrong.append(f"{c['old']} answered after the deploy ended ({c['phase']} {c['k']})")
        if not c.get("inside_ok", True):
            wrong.append(f"{'/'.join(c['versions_inside'])} inside the window ({c['phase']} {c['k']})")
        if not c.get("after_ok", True):
            wrong.append(f"{'/'.join(c['versions_after'])} after the window ({c['phase']} {c['k']})")
    summary["versions_wrong"] = wrong
    return summary


def fmt(value, unit="", digits=0):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = round(value, digits) if digits else round(value)
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def run_row(s: dict) -> str:
    closed, fixed, clients = s["closed"], s["fixed"], s["clients"]
    load = f"{s['meta'].get('loadavg_start', '?').split()[0]}→{s['meta'].get('loadavg_end', '?').split()[0]}"
    if not closed:
        return f"| {s['mode']} | {s['round']} | {load} | session failed | | | | | | | | | |"
    pm = closed["per_method"]
    closed_failed = f"{closed['failed']} (GET {pm['GET']['failed']}, POST {pm['POST']['failed']})"
    unhealthy = closed.get("unhealthy")
    unhealthy_text = f"{unhealthy['responses']} (exit {unhealthy['exit']})" if unhealthy else "not run"
    if fixed:
        kinds = fixed["per_kind"]
        fixed_failed = f"{fixed['failed']} (" + ", ".join(
            f"{k} {kinds[k]['failed']}" for k in ("get", "post", "slow", "big") if k in kinds) + ")"
        w, st = fixed["window"], fixed["steady"]
        latency = f"{fmt(w['p50'])}/{fmt(w['p99'])}/{fmt(w['p999'])}/{fmt(w['max'])} vs {fmt(st['p50'])}/{fmt(st['p99'])}/{fmt(st['p999'])}/{fmt(st['max'])}"
        longs = [c["long_across"] for c in s["cutovers"] if c["phase"] == "fixed" and "long_across" in c]
        long_text = " ".join(f"{l['slow']['ok']}/{l['slow']['n']}+{l['big']['ok']}/{l['big']['n']}" for l in longs)
        if fixed.get("long_resent"):
            long_text += f" ({fixed['long_resent']} resent by nginx)"
    else:
        fixed_failed, latency, long_text = "n/a", "n/a", "n/a"
    client_text = ", ".join(
        f"{name} {sum(m['failed'] for m in clients[name].values())}/{sum(m['sent'] for m in clients[name].values())}"
        for name in CLIENTS if name in clients)
    return (f"| {s['mode']} | {s['round']} | {load} | {fmt(closed['rps'])} | {closed_failed} | "
            f"{fmt(median(s['cutover_ms']), ' ms')} | {fmt(median(s['overhead_ms']), ' ms')} | {unhealthy_text} | "
            f"{fixed_failed} | {latency} | {long_text} | {'ok' if s['versions_ok'] else '**wrong**: ' + '; '.join(s['versions_wrong'])} | "
            f"{client_text} | {s['failed_deploys']} |")


def aggregate(sessions: list) -> dict:
    """Per mode, over its runs: the median run and the worst run of each figure."""
    by_mode = {}
    for s in sessions:
        by_mode.setdefault(s["mode"], []).append(s)
    result = {}
    for mode, runs in by_mode.items():
        ok = [s for s in runs if s["closed"]]
        def values(f):
            return [v for v in (f(s) for s in ok) if v is not None]
        figures = {
            "runs": len(runs), "failed_sessions": len(runs) - len(ok),
            "rps": values(lambda s: s["closed"]["rps"]),
            "closed_failed": values(lambda s: s["closed"]["failed"]),
            "closed_failed_get": values(lambda s: s["closed"]["per_method"]["GET"]["failed"]),
            "closed_failed_post": values(lambda s: s["closed"]["per_method"]["POST"]["failed"]),
            "closed_failed_per_cutover": values(lambda s: s["closed"]["failed"] / max(1, s["closed"]["cutovers"])),
            "cutover_ms": values(lambda s: median(s["cutover_ms"])),
            "cutover_ms_all": [v for s in ok for v in s["cutover_ms"]],
            "overhead_ms": values(lambda s: median(s["overhead_ms"])),
            "overhead_ms_all": [v for s in ok for v in s["overhead_ms"]],
            "readiness_ms_all": [v for s in ok for v in s["readiness_ms"]],
            "unhealthy_responses": values(lambda s: s["closed"].get("unhealthy", {}).get("responses")),
            "unhealthy_exit_ok": all(s["closed"]["unhealthy"]["exit"] != 0 for s in ok if "unhealthy" in s["closed"]),
            "fixed_failed": values(lambda s: s["fixed"].get("failed")),
            "window_p99": values(lambda s: s["fixed"].get("window", {}).get("p99")),
            "window_max": values(lambda s: s["fixed"].get("window", {}).get("max")),
            "steady_p99": values(lambda s: s["fixed"].get("steady", {}).get("p99")),
            "window_over_steady_p99": values(lambda s: s["fixed"]["window"]["p99"] / s["fixed"]["steady"]["p99"]
                                             if s["fixed"].get("window", {}).get("p99") and s["fixed"]["steady"]["p99"] else None),
            "versions_ok": all(s["versions_ok"] for s in ok) and bool(ok),
            "failed_deploys": sum(s["failed_deploys"] for s in ok),
            "long_total": sum(l[k]["n"] for s in ok for c in s["cutovers"] if "long_across" in c
                              for l in [c["long_across"]] for k in ("slow", "big")),
            "long_ok": sum(l[k]["ok"] for s in ok for c in s["cutovers"] if "long_across" in c
                           for l in [c["long_across"]] for k in ("slow", "big")),
            "cutovers_without_long": sum(1 for s in ok for c in s["cutovers"] if "long_across" in c
                                         and c["long_across"]["slow"]["n"] + c["long_across"]["big"]["n"] == 0),
            "clients": {name: {m: [s["clients"].get(name, {}).get(m, {}).get("failed", 0) for s in ok] for m in ("GET", "POST")}
                        for name in CLIENTS},
        }
        result[mode] = figures
    return result


def med_worst(values, worst=max, unit="", digits=0):
    if not values:
        return "n/a"
    return f"{fmt(median(values), unit, digits)} ({fmt(worst(values), unit, digits)})"


def bars(agg: dict) -> list:
    def verdict(ok):
        return "met" if ok else "**missed**"
    lines = ["", "Bars, judged on the worst run:", ""]
    s = agg.get("seamless")
    if s and s["runs"]:
        failed = s["closed_failed"] + s["fixed_failed"]
        lines.append(f"- seamless, 0 failed requests (closed loop and fixed rate, every run): worst run "
                     f"{max(failed, default=0)}, {s['failed_deploys']} failed deploys: "
                     f"{verdict(max(failed, default=1) == 0 and s['failed_deploys'] == 0 and not s['failed_sessions'])}")
        if s["window_over_steady_p99"]:
            worst = max(s["window_over_steady_p99"])
            lines.append(f"- seamless, window p99 <= 2x steady p99: worst run {worst:.2f}x: {verdict(worst <= 2)}")
        if s["window_max"]:
            worst = max(s["window_max"])
            lines.append(f"- seamless, window max <= 1 s: worst run {worst:,.0f} ms: {verdict(worst <= 1000)}")
        if s["unhealthy_responses"]:
            lines.append(f"- seamless, unhealthy deploy gets 0 responses: worst run {max(s['unhealthy_responses'])}: "
                         f"{verdict(max(s['unhealthy_responses']) == 0 and s['unhealthy_exit_ok'])}")
    for mode in ("reload-direct", "reload-pooled"):
        r = agg.get(mode)
        if r and r["runs"]:
            failed = r["closed_failed"] + r["fixed_failed"]
            lines.append(f"- {mode}, 0 failed requests: worst run {max(failed, default=0)}: "
                         f"{verdict(max(failed, default=1) == 0)}")
    for mode in ("reload-direct", "reload-pooled", "seamless"):
        r = agg.get(mode)
        if r and r["overhead_ms"]:
            lines.append(f"- {mode}, deploy overhead <= 1 s beyond the service's boot: median run "
                         f"{fmt(median(r['overhead_ms']), ' ms')}, worst cutover {fmt(max(r['overhead_ms_all']), ' ms')}: "
                         f"{verdict(max(r['overhead_ms']) <= 1000)} (judged on each run's median)")
    for mode, r in agg.items():
        if r["long_total"]:
            lines.append(f"- {mode}, long requests across the cutovers answered 200 by old or new: "
                         f"{r['long_ok']}/{r['long_total']}; cutovers with none in flight: {r['cutovers_without_long']}: "
                         f"{verdict(r['long_ok'] == r['long_total'])}")
    for mode, r in agg.items():
        lines.append(f"- {mode}, version checks (old's last answer before the deploy ends, only old or new inside "
                     f"the window, only new after): {verdict(r['versions_ok'])}")
    return lines


def markdown(run: dict, capacity: dict, sessions: list, agg: dict) -> str:
    lines = [
        f"`{run.get('command', 'bench/cutover.sh')}`, started {run.get('started_utc')}; {run.get('cpu')}, "
        f"nproc {run.get('nproc')}, load average at the start {run.get('loadavg_start')}; "
        f"nginx {run.get('nginx')}, {run.get('java')}, wrk {run.get('wrk')}, node {run.get('node')}.",
        "",
        f"Closed-loop capacity (baseline-direct nginx, no cutover, {run.get('connections')} connections): "
        f"{fmt(capacity.get('closed_loop_rps'))} requests/s; fixed rate {run.get('rate')} requests/s "
        f"({run.get('rate_fraction')} of it). {run.get('cutovers')} closed-loop and {run.get('cutovers')} fixed-rate "
        f"cutovers per run, {run.get('rounds')} runs per mode, interleaved.",
        "",
        "Every run (window and steady latency: p50/p99/p99.9/max ms of GET / and POST /echo at the fixed rate, "
        "from the instant each request was due; long requests across the cutovers: slow ok/n + big ok/n per cutover; "
        "keep-alive clients: failed/sent):",
        "",
        "| mode | run | load avg | closed req/s | closed failed | cutover time | overhead | unhealthy deploy: responses | "
        "fixed-rate failed | window vs steady latency | long requests | versions | keep-alive clients failed | failed deploys |",
        "|---|---:|---|---:|---|---:|---:|---|---|---|---|---|---|---:|",
    ]
    lines += [run_row(s) for s in sorted(sessions, key=lambda s: (s["mode"], s["round"]))]
    lines += [
        "",
        "Per mode, median run (worst run):",
        "",
        "| mode | runs | closed req/s | closed failed (GET, POST) | failed per cutover | cutover time | overhead | "
        "readiness under load | fixed-rate failed | window p99 | window max | steady p99 |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, a in agg.items():
        lines.append(
            f"| {mode} | {a['runs']} | {med_worst(a['rps'], min)} | {med_worst(a['closed_failed'])} "
            f"({med_worst(a['closed_failed_get'])}, {med_worst(a['closed_failed_post'])}) | "
            f"{med_worst(a['closed_failed_per_cutover'], digits=1)} | {med_worst(a['cutover_ms'], unit=' ms')} | "
            f"{med_worst(a['overhead_ms'], unit=' ms')} | {med_worst(a['readiness_ms_all'], unit=' ms')} | "
            f"{med_worst(a['fixed_failed'])} | {med_worst(a['window_p99'], unit=' ms')} | "
            f"{med_worst(a['window_max'], unit=' ms')} | {med_worst(a['steady_p99'], unit=' ms')} |")
    lines += ["", "Keep-alive clients beside the fixed-rate load, failed requests per run (GET; POST):", ""]
    lines += ["| mode | " + " | ".join(CLIENTS) + " |", "|---|" + "---|" * len(CLIENTS)]
    for mode, a in agg.items():
        cells = [" ".join(map(str, a["clients"][c]["GET"])) + "; " + " ".join(map(str, a["clients"][c]["POST"]))
                 for c in CLIENTS]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    lines += bars(agg)
    drains = [s["drain"] for s in sessions if s["drain"]]
    for d in drains:
        lines += ["", f"Drain check (seamless, drain_timeout 1s, stop_grace 2s, {d['requests']} × /slow?ms=8000 "
                  f"in flight): {d['cut']} not answered 200, {d['resent']} resent by nginx to the new slot; answers: "
                  + "; ".join(f"{a['method']} {a['status']} from {a['version'] or 'no version'} after {a['seconds']:.1f} s"
                              + (f" (upstreams {a['upstreams']}: {a['upstream_status']})" if a["upstreams"] else "")
                              for a in d["answers"])
                  + "; switch-traffic's log: " + (" / ".join(f"`{l}`" for l in d["log_lines"]) or "nothing about it")]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True, type=Path)
    args = parser.parse_args()
    run = key_values(args.results / "run.txt")
    capacity_path = args.results / "capacity" / "capacity.json"
    capacity = json.loads(capacity_path.read_text()) if capacity_path.exists() else {}
    sessions = [session_summary(p) for p in sorted(args.results.glob("r*-*")) if (p / "meta.txt").exists()]
    if not sessions:
        print("cutover: no session ran; see the messages above", file=sys.stderr)
        return 1
    agg = aggregate(sessions)
    (args.results / "results.json").write_text(
        json.dumps({"run": run, "capacity": capacity, "sessions": sessions, "modes": agg}, indent=1) + "\n")
    text = markdown(run, capacity, sessions, agg)
    (args.results / "summary.md").write_text(text)
    print(text, end="")
    print(f"(raw results: {args.results})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
