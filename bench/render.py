#!/usr/bin/env python3
"""bench/render.py — turns memgoose-bench JSON lines into tables and chart data.

Usage: render.py RESULTS.json OUT_DIR

Writes into OUT_DIR:
  tables.md       one Markdown table per suite: metric | median | runs | baseline | ratio |
                  target | met?  (a ratio row referenced by another row is folded into it)
  throughput.dat  label, memgoosed ops/s, baseline ops/s      (for bench/charts.gp)
  writes.dat      label, memgoosed ops/s, the engine in-process (core suite; 0 when none)
  latency.dat     label, memgoosed us, baseline us
  ratios.dat      label, measured ratio, target (every suite's rows that carry a target)
  backends.dat    operation, then docs or ops/s per backend (memory, file_debounced,
                  file_immediate, sqlite, wiredtiger; NaN when not measured)
  backend_latency.dat  operation, then p50 in microseconds per backend
  compression.dat compressor, table MB, insert docs/s, scan docs/s (when measured)
and, in tables.md, for the backends suite a table per operation and backend with memgoose's
published figures (the seed's storage guide) beside ours, and for the scale and compression
suites their own pivots.
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
    "changes_ingest_with_subscriber_vs_none": "ingest with watcher / without\\n(target >= 0.8)",
    "file_debounced_insert_many_vs_memory": "file debounced / memory\\ninsertMany (>= 0.5)",
    "file_immediate_16_vs_1_writers": "file immediate 16 / 1\\nwriters (>= 8)",
    "sqlite_insert_many_vs_raw": "sqlite / raw SQLite\\ninsertMany (>= 0.7)",
    "wiredtiger_insert_many_vs_raw": "wiredtiger / raw WT\\ninsertMany (>= 0.7)",
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
    ratios = [r for r in rows if "target" in r and "_vs_" in r["metric"]]
    write_dat(out_dir / "ratios.dat", "label measured target",
              [(RATIO_LABELS.get(r["metric"], r["metric"]), r["median"] or 0, r["target_value"])
               for r in ratios])


BACKENDS = ["memory", "file_debounced", "file_immediate", "sqlite", "wiredtiger"]
COMPRESSORS = ["none", "snappy", "zlib", "zstd", "lz4"]

# memgoose 2.3.0's published figures (the seed's memgoose-storage-guide.md, Apple M4 Max;
# issues 4 and 5 for the file and SQLite insert rates), per operation and backend, as text.
SEED = {
    "insert_one": {"memory": "10k in 28 ms (357k/s)", "file_debounced": "10k in 454 ms (22k/s); "
                   "7.2k docs/s (issue 4)", "sqlite": "10k in 87 ms (115k/s); 35.5k docs/s "
                   "(issue 5)", "wiredtiger": "10k in 66 ms (152k/s)"},
    "insert_many": {"memory": "100k in 256 ms (391k/s)", "sqlite": "100k in 759 ms (132k/s)",
                    "wiredtiger": "100k in 501 ms (200k/s); ~1.5 s in its own section"},
    "find_one_indexed": {"memory": "0.07 ms", "file_debounced": "0.16 ms", "sqlite": "0.23 ms",
                         "wiredtiger": "0.16 ms"},
    "update_one": {"memory": "< 1 ms (100k docs)", "file_debounced": "~50 ms for 10k",
                   "sqlite": "~30 ms for 10k", "wiredtiger": "~20 ms for 10k"},
    "delete_one": {"memory": "< 1 ms (100k docs)", "file_debounced": "~10 ms for 10k",
                   "sqlite": "~10 ms for 10k", "wiredtiger": "< 1 ms for 10k"},
}

OPERATIONS = [  # (label, metric suffix, unit text, p50 suffix, p99 suffix)
    ("insertOne ×10k, 64 in flight", "insert_one_docs_per_s", "docs/s", "insert_one_p50_us",
     "insert_one_p99_us"),
    ("insertMany ×1000, 100k docs, 4 in flight", "insert_many_docs_per_s", "docs/s",
     "insert_many_batch_p50_ms", "insert_many_batch_p99_ms"),
    ("findOne by unique email, 1 of 100k", "find_one_indexed_p50_us", "µs p50", None,
     "find_one_indexed_p99_us"),
    ("findOne by name (no index)", "find_one_unindexed_p50_ms", "ms p50", None,
     "find_one_unindexed_p99_ms"),
    ("count by status (index, 1/3 of docs)", "count_indexed_p50_ms", "ms p50", None,
     "count_indexed_p99_ms"),
    ("updateOne ×10k by email, 64 in flight", "update_one_ops_per_s", "ops/s",
     "update_one_p50_us", "update_one_p99_us"),
    ("deleteOne ×10k by email, 64 in flight", "delete_one_ops_per_s", "ops/s",
     "delete_one_p50_us", "delete_one_p99_us"),
]


def cell(by, name):
    r = by.get(name)
    if not r:
        return "–"
    if "missing" in r:
        return "skipped" if r.get("missing", "").startswith("memgoosed's hello") else "missing"
    return fmt(r["median"])


def backends_pivot(rows):
    by = {r["metric"]: r for r in rows}
    head = "| operation | " + " | ".join(BACKENDS) + " |"
    out = [head, "| --- |" + " ---: |" * len(BACKENDS)]
    for label, rate, unit, p50, p99 in OPERATIONS:
        cells = []
        for b in BACKENDS:
            c = cell(by, f"{b}_{rate}")
            extra = [x for x in (p50, p99) if x]
            if c not in ("–", "skipped", "missing") and extra:
                lat = " / ".join(cell(by, f"{b}_{x}") for x in extra)
                unit_lat = "ms" if extra[-1].endswith("_ms") else "µs"
                names = "p50/p99" if len(extra) == 2 else "p99"
                c += f" ({names} {lat} {unit_lat})"
            cells.append(c)
        out.append(f"| {label}, {unit} | " + " | ".join(cells) + " |")
    seed = ["| operation (memgoose 2.3.0, published) | " + " | ".join(BACKENDS) + " |",
            "| --- |" + " --- |" * len(BACKENDS)]
    for op, figures in SEED.items():
        seed.append(f"| {op} | " + " | ".join(figures.get(b, "") for b in BACKENDS) + " |")
    return "\n".join(out) + "\n\n" + "\n".join(seed)


def scale_pivot(rows):
    by = {r["metric"]: r for r in rows}
    cols = [("RSS B/doc at 100k", "rss_bytes_per_doc_at_100k"),
            ("RSS B/doc at 1M", "rss_bytes_per_doc_at_1m"),
            ("encoded B/doc", "encoded_bytes_per_doc"), ("disk B/doc", "disk_bytes_per_doc"),
            ("load docs/s", "load_docs_per_s"), ("start-up s", "startup_s"),
            ("start-up docs/s", "startup_docs_per_s")]
    out = ["| backend | " + " | ".join(c for c, _ in cols) + " |",
           "| --- |" + " ---: |" * len(cols)]
    for b in [b for b in BACKENDS if b != "file_immediate"]:
        out.append(f"| {b} | " + " | ".join(cell(by, f"{b}_{m}") for _, m in cols) + " |")
    return "\n".join(out)


def compression_pivot(rows):
    by = {r["metric"]: r for r in rows}
    cols = [("table file bytes", "table_bytes"), ("whole dir bytes", "dir_bytes"),
            ("none / this", "vs_none"), ("encoded / table", "ratio_to_encoded"),
            ("insert docs/s", "insert_docs_per_s"), ("scan docs/s", "scan_docs_per_s"),
            ("start-up docs/s", "startup_docs_per_s")]
    out = ["| compressor | " + " | ".join(c for c, _ in cols) + " |",
           "| --- |" + " ---: |" * len(cols)]
    for c in COMPRESSORS:
        out.append(f"| {c} | " + " | ".join(cell(by, f"compression_{c}_{m}") for _, m in cols)
                   + " |")
    return "\n".join(out)


PIVOTS = {"backends": backends_pivot, "scale": scale_pivot, "compression": compression_pivot}


def backend_chart_data(rows, out_dir):
    by = {r["metric"]: r for r in rows if r["suite"] == "backends"}

    def v(name):
        r = by.get(name)
        return r["median"] if r and r.get("median") is not None else float("nan")

    ops = [("insertOne\\n(64 in flight)", "insert_one_docs_per_s"),
           ("insertMany x1000\\n(4 in flight)", "insert_many_docs_per_s"),
           ("updateOne\\n(64 in flight)", "update_one_ops_per_s"),
           ("deleteOne\\n(64 in flight)", "delete_one_ops_per_s")]
    write_dat(out_dir / "backends.dat", "operation " + " ".join(BACKENDS),
              [(label, *[v(f"{b}_{m}") for b in BACKENDS]) for label, m in ops])
    lat = [("findOne indexed p50", "find_one_indexed_p50_us"),
           ("findOne indexed p99", "find_one_indexed_p99_us")]
    write_dat(out_dir / "backend_latency.dat", "operation " + " ".join(BACKENDS),
              [(label, *[v(f"{b}_{m}") for b in BACKENDS]) for label, m in lat])
    cby = {r["metric"]: r for r in rows if r["suite"] == "compression"}
    comp = []
    for c in COMPRESSORS:
        r = cby.get(f"compression_{c}_table_bytes")
        if r and r.get("median"):
            g = lambda m: (cby.get(f"compression_{c}_{m}") or {}).get("median") or float("nan")
            comp.append((c, r["median"] / 1e6, g("insert_docs_per_s"), g("scan_docs_per_s")))
    write_dat(out_dir / "compression.dat", "compressor table_MB insert_docs_s scan_docs_s", comp)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: render.py RESULTS.json OUT_DIR")
    rows = load(sys.argv[1])
    out_dir = Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    for suite in dict.fromkeys(r["suite"] for r in rows):
        mine = [r for r in rows if r["suite"] == suite]
        pivot = PIVOTS.get(suite)
        if pivot:
            by = "compressor" if suite == "compression" else "backend"
            parts.append(f"### {suite} ({mine[0]['docs']:,} documents): by {by}\n\n"
                         f"{pivot(mine)}\n")
        parts.append(f"### {suite} ({mine[0]['docs']:,} documents)\n\n{suite_table(mine)}\n")
    (out_dir / "tables.md").write_text("\n".join(parts))
    chart_data(rows, out_dir)
    backend_chart_data(rows, out_dir)


if __name__ == "__main__":
    main()
