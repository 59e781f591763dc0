#!/usr/bin/env python3
"""bench/render.py — turns memgoose-bench JSON lines into tables and chart data.

Usage: render.py RESULTS.json OUT_DIR

Writes into OUT_DIR:
  tables.md       one Markdown table per suite: metric | median | runs | baseline | ratio |
                  target | met?  (a ratio row referenced by another row is folded into it)
  throughput.dat  label, memgoosed ops/s, baseline ops/s      (for bench/charts.gp)
  writes.dat      label, memgoosed ops/s, the engine in-process (core suite; 0 when none)
  latency.dat     label, memgoosed us, baseline us
  ratios.dat      label, measured ratio, target
Only the Python standard library is used. A missing metric (Redis not installed, ...) is
shown as "missing: <reason>" in the table and as 0 in the chart data.
"""
import json
import sys
from pathlib import Path


def load(path):
    rows = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def target_text(row):
    if not row or "target" not in row:
        return "", ""
    op = "≤" if row["target"] == "<=" else "≥"
    return f"{op} {fmt(row['target_value'])}", "yes" if row["met"] else "**NO**"


def suite_table(rows):
    by_name = {r["metric"]: r for r in rows}
    folded = {r["ratio"] for r in rows if r.get("ratio")}
    out = ["| metric | median | runs | baseline | ratio | target | met? |",
           "| --- | ---: | --- | --- | ---: | --- | --- |"]
    for r in rows:
        if r["metric"] in folded:
            continue
        if "missing" in r:
            out.append(f"| {r['metric']} | missing: {r['missing']} | | | | | |")
            continue
        runs = " ".join(fmt(v) for v in r["runs"])
        base = by_name.get(r.get("baseline", ""))
        ratio = by_name.get(r.get("ratio", ""))
        base_txt = f"{r['baseline']} = {fmt(base.get('median'))}" if base else ""
        if base and "missing" in base:
            base_txt = f"{r['baseline']}: missing"
        ratio_txt = fmt(ratio.get("median")) if ratio else ""
        target, met = target_text(ratio if ratio and "target" in ratio else r)
        out.append(f"| {r['metric']} | {fmt(r['median'])} | {runs} | {base_txt} | "
                   f"{ratio_txt} | {target} | {met} |")
    return "\n".join(out)


def median(by_name, name):
    r = by_name.get(name)
    return r["median"] if r and r.get("median") is not None else 0


def write_dat(path, header, lines):
    with open(path, "w") as f:
        f.write(f"# {header}\n")
        for label, *values in lines:
            f.write(f'"{label}" ' + " ".join(f"{v:.6g}" for v in values) + "\n")


RATIO_LABELS = {
    "find_one_p50_vs_echo": "findOne p50 / echo p50\\n(target <= 1.3)",
    "find_one_pipelined_vs_echo": "64 in flight / echo\\n(target >= 0.6)",
    "find_one_50_clients_vs_redis": "50 clients / Redis GET\\n(target >= 1)",
    "isolation_p99_loaded_vs_idle": "p99 during ingest / idle\\n(target <= 3)",
}


def chart_data(rows, out_dir):
    d = {r["metric"]: r for r in rows if r["suite"] == "daemon"}
    c = {r["metric"]: r for r in rows if r["suite"] == "core"}
    m = lambda name: median(d, name)
    write_dat(out_dir / "throughput.dat", "label memgoosed baseline (ops/s)", [
        ("findOne, 64 in flight\\n(vs ZeroMQ echo)",
         m("find_one_pipelined_ops_per_s"), m("echo_pipelined_ops_per_s")),
        ("findOne, 50 clients\\n(vs redis-benchmark GET)",
         m("find_one_50_clients_ops_per_s"), m("redis_get_50_clients_rps")),
    ])
    write_dat(out_dir / "writes.dat", "label memgoosed engine-in-process (docs or ops/s)", [
        ("insertMany load\\n(target 1M docs/s)", m("load_insert_many_docs_per_s"),
         median(c, "insert_many_docs_per_s")),
        ("insertMany ingest\\n(during isolation)", m("isolation_ingest_docs_per_s"), 0),
        ("insertOne\\n(window 64)", m("insert_one_pipelined_ops_per_s"), 0),
        ("updateOne\\n(window 64)", m("update_one_pipelined_ops_per_s"),
         median(c, "update_one_ops_per_s")),
        ("deleteOne\\n(window 64)", m("delete_one_pipelined_ops_per_s"),
         median(c, "delete_one_ops_per_s")),
    ])
    write_dat(out_dir / "latency.dat", "label memgoosed baseline (us)", [
        ("findOne p50\\n(vs echo p50)", m("find_one_p50_us"), m("echo_rtt_p50_us")),
        ("findOne p99\\n(vs echo p99)", m("find_one_p99_us"), m("echo_rtt_p99_us")),
        ("findOne p99 during ingest\\n(vs idle p99)", m("isolation_p99_loaded_us"),
         m("isolation_p99_idle_us")),
    ])
    ratios = [r for r in rows
              if r["suite"] == "daemon" and "target" in r and "_vs_" in r["metric"]]
    write_dat(out_dir / "ratios.dat", "label measured target",
              [(RATIO_LABELS.get(r["metric"], r["metric"]), r["median"] or 0, r["target_value"])
               for r in ratios])


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: render.py RESULTS.json OUT_DIR")
    rows = load(sys.argv[1])
    out_dir = Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    for suite in dict.fromkeys(r["suite"] for r in rows):
        mine = [r for r in rows if r["suite"] == suite]
        parts.append(f"### {suite} ({mine[0]['docs']:,} documents)\n\n{suite_table(mine)}\n")
    (out_dir / "tables.md").write_text("\n".join(parts))
    chart_data(rows, out_dir)


if __name__ == "__main__":
    main()
