"""The end-to-end cases (bench/e2e.py) in the summary and in their own section of
docs/benchmarks.md, with the hand-written code they were measured against."""

from __future__ import annotations

from e2e import FLOOR, HAND


def _secs(t) -> str:
    from report import secs

    return secs(t)


def summary_rows(r: dict, markdown: bool) -> list[list[str]]:
    """Rows of the summary table (``report.SUMMARY_HEADERS``) for one e2e result."""
    from report import ratio, verdict

    rows = []
    for row in r["rows"]:
        target = row.get("target")
        if "worst" in row:  # the structure case: a time; its worst wall time is the target
            wall = row["worst_wall"]
            cpu = row.get("worst_cpu", row["worst"])  # runs before 'worst' meant the wall's
            rows.append([row["label"] + f" ({row['note']})",
                         f"wall {_secs(row['jacli_s'])} (worst {_secs(wall)}); "
                         f"CPU {_secs(row['cpu_s'])} (worst {_secs(cpu)})", "—",
                         "—", "—" if target is None else f"worst wall ≤ {_secs(target)}",
                         verdict(None if target is None else wall <= target)])
            continue
        rows.append([f"end to end: {row['label']}" + (f" ({row['note']})" if row.get("note")
                                                       else ""),
                     _secs(row["jacli_s"]), f"{row['anchor']} {_secs(row['anchor_s'])}",
                     f"{ratio(row['ratio'])} paired ({row['rounds']} rounds)",
                     "—" if target is None else f"≤ {target:.2f}", verdict(row["pass"])])
    return rows


def section(results: list[dict]) -> list[str]:
    """``## End to end`` in docs/benchmarks.md: the table and the hand-written code."""
    from report import table

    done = [r for r in results if r["case"]["kind"] == "e2e" and "error" not in r]
    if not done:
        return []
    rows = [row for r in done for row in summary_rows(r, True)]
    out = ["## End to end: what a user waits for", "",
           "Each row is a paired ratio: jacli and the anchor run back to back, the order "
           "alternating, the median of the per-round ratios (the shared machine's slow "
           "stretches hit both sides of a round). API: `jacli.jacobian(...)` in this process "
           "vs the fastest of the hand-written strategies below (chosen by interleaved "
           "medians). Batch: one `jacli batch` process over a pipe vs the hand loop below, "
           "the three programs repeating, every request at a point no request had (three "
           "decimals; a repeated point finds SymPy's cache warm). "
           "CLI and `--at-file`: whole processes; the import floor is "
           f"`{' '.join(FLOOR[1:])}`. Structure: the CLI's `structure` of a 200×200 J, "
           "each call right after a torch matmul on torch's threads; the target is its *worst* "
           "call's wall time (the thread fight showed as variance), with the CPU time of all "
           "the process's threads beside it (`time.process_time`: spinning threads count; a "
           "wall time also holds other processes' time slices on the shared machine), and "
           "NumPy's SVD and `slogdet` (what it used before) below it.", "",
           table(["case", "jacli (median)", "anchor (median)", "ratio", "target", "result"],
                 rows, True), ""]
    for name, title in (("api", "API call"), ("batch", "`jacli batch` requests"),
                        ("atfile", "`--at-file` (the naive hand script)"),
                        ("network", "the network script (run by `python net.py`)")):
        out += [f"Hand-written, {title}:", "", "```python", HAND[name].rstrip(), "```", ""]
    return out
