"""bench/pipeline.sh's tables and results.json.

  pipeline_report.py header                  the per-run table's header
  pipeline_report.py row RECORD_JSON         one run of one way, as a table row
  pipeline_report.py report RUNS_JSONL OUT COMMAND STARTED MACHINE
      every run, the medians and worst runs of both ways side by side, and
      their ratio; printed and written to OUT/summary.md, with every record
      in OUT/results.json. Exits 1 when a pipeline did not end with the new
      version answering.
"""

import json
import statistics
import sys

PHASES = ["clone", "build", "store", "deploy", "verify"]
WAYS = {
    "switchyard": "`switchyard run` (build-jar, push-artifact, request-deploy --via ssh, verify-health)",
    "users": "mvn package, aws s3 cp, scp + ssh bash deploy.sh, curl loop",
}


def header():
    columns = ["run", "way", "version", "total ms"] + PHASES + ["answered", "load start", "load end"]
    return "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)


def row(record):
    phases = record["phases_ms"]
    cells = [record["run"], record["way"], record["version"], record["total_ms"]]
    cells += [phases[p] for p in PHASES]
    cells += ["yes" if record["answered"] else "no", record["load_start"], record["load_end"]]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def summary(records):
    """Per way: median and worst total, median of every phase, over the runs that answered."""
    out = {}
    for way in WAYS:
        mine = [r for r in records if r["way"] == way]
        good = [r for r in mine if r["answered"]]
        totals = [r["total_ms"] for r in good]
        out[way] = {
            "runs": len(mine),
            "answered": len(good),
            "median_ms": round(statistics.median(totals)) if totals else None,
            "worst_ms": max(totals) if totals else None,
            "phases_median_ms": {p: round(statistics.median(r["phases_ms"][p] for r in good)) for p in PHASES}
            if good else {},
        }
    return out


def report(runs_file, out_dir, command, started, machine):
    records = [json.loads(line) for line in open(runs_file) if line.strip()]
    stats = summary(records)
    lines = [f"`{command}`, started {started}; {machine}", "", header()]
    lines += [row(r) for r in records]
    lines += ["", "| way | runs answered | median ms | worst ms | " + " | ".join(PHASES) + " (median ms) |",
              "|---|---|---|---|" + "---|" * len(PHASES)]
    for way, text in WAYS.items():
        s = stats[way]
        phases = [str(s["phases_median_ms"].get(p, "-")) for p in PHASES]
        lines.append(f"| {text} | {s['answered']} of {s['runs']} | {s['median_ms'] or '-'} | {s['worst_ms'] or '-'} | "
                     + " | ".join(phases) + " |")
    mine, theirs = stats["switchyard"]["median_ms"], stats["users"]["median_ms"]
    if mine and theirs:
        lines += ["", f"switchyard's median is {mine / theirs:.2f}x the users' ({theirs / mine:.1f}x faster)"]
    text = "\n".join(lines)
    print()
    print(text)
    with open(f"{out_dir}/summary.md", "w") as f:
        f.write(text + "\n")
    with open(f"{out_dir}/results.json", "w") as f:
        json.dump({"command": command, "started": started, "machine": machine, "runs": records, "summary": stats},
                  f, indent=2)
    failed = [f"{r['way']} run {r['run']}" for r in records if not r["answered"]]
    if failed:
        print("the new version did not answer after: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "header":
        print(header())
    elif command == "row":
        print(row(json.loads(sys.argv[2])))
    elif command == "report" and len(sys.argv) == 7:
        sys.exit(report(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
