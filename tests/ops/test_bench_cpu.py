"""bench/load/cpu.py: CPU seconds per group of processes between two /proc snapshots, and their
lines in bench/load/report.py (issue 16: where the CPU goes in each load phase)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "load"))
import cpu  # noqa: E402

HZ = cpu.CLOCK_TICKS


def write_proc(proc: Path, processes: dict, machine: int) -> None:
    """A /proc-like tree: pid -> (command name, ppid, utime, stime, cutime, cstime)."""
    for entry in proc.iterdir():
        if entry.name.isdigit():
            (entry / "stat").unlink()
            entry.rmdir()
    for pid, (comm, ppid, utime, stime, cutime, cstime) in processes.items():
        (proc / str(pid)).mkdir()
        rest = [0] * 9 + [utime, stime, cutime, cstime] + [20, 0, 1, 0, 123]
        (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) S {ppid} " + " ".join(map(str, rest)) + "\n")
    (proc / "stat").write_text(f"cpu  {machine} 0 0 5000 7 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\n")


def test_diff_counts_new_processes_from_zero_and_exited_ones_through_their_parent(tmp_path):
    write_proc(tmp_path, {
        100: ("postgres", 1, 50, 10, 0, 0),
        101: ("postgres: postgres procuration 127.0.0.1(5432) idle", 100, 30, 5, 0, 0),
        102: ("postgres: autovacuum (launcher) )x(", 100, 3, 1, 0, 0),
        200: ("gunicorn", 1, 400, 40, 0, 0),
        201: ("gunicorn", 200, 1000, 100, 0, 0),
        300: ("someone else", 1, 9000, 900, 0, 0),
    }, machine=20000)
    before = cpu.snapshot({"postgres": 100, "gunicorn": 200}, tmp_path)
    assert before["groups"]["postgres"] == {"100": 60, "101": 35, "102": 4}
    # During the phase: backend 101 used 20 more ticks and exited (reaped: its 55 ticks go to the
    # postmaster's cutime/cstime); backend 103 was born and used 12; the postmaster used 2; the
    # gunicorn worker 100; another engineer's process 5000 (not in any group).
    write_proc(tmp_path, {
        100: ("postgres", 1, 52, 10, 45, 10),
        102: ("postgres: autovacuum (launcher) )x(", 100, 3, 1, 0, 0),
        103: ("postgres: postgres procuration 127.0.0.1(5433) idle", 100, 10, 2, 0, 0),
        200: ("gunicorn", 1, 400, 40, 0, 0),
        201: ("gunicorn", 200, 1090, 110, 0, 0),
        300: ("someone else", 1, 13000, 1900, 0, 0),
    }, machine=20000 + 5200)
    result = cpu.diff(before, cpu.snapshot({"postgres": 100, "gunicorn": 200}, tmp_path))
    assert result["groups"] == {"postgres": (20 + 12 + 2) / HZ, "gunicorn": 100 / HZ}
    assert result["machine"] == 5200 / HZ
    assert result["processes"] == {"postgres": 3, "gunicorn": 2}


def test_a_group_whose_root_is_gone_counts_nothing(tmp_path):
    write_proc(tmp_path, {10: ("redis-server", 1, 5, 5, 0, 0)}, machine=100)
    assert cpu.snapshot({"redis": 11}, tmp_path)["groups"] == {"redis": {}}


def test_a_real_snapshot_grows_with_the_work_of_the_process_and_of_its_exited_children():
    me = os.getpid()
    start = os.times()
    before = cpu.snapshot({"me": me})
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    total = 0
    while os.times().user - start.user < 0.05:  # busy until the kernel has counted some of it
        total += sum(i * i for i in range(10_000))
    after = cpu.snapshot({"me": me})
    end = os.times()
    used = cpu.diff(before, after)
    mine = (after["groups"]["me"][str(me)] - before["groups"]["me"][str(me)]) / HZ
    children = (end.children_user + end.children_system) - (start.children_user + start.children_system)
    assert children > 0
    # The child exited and was reaped between the snapshots: its whole CPU is in this process's
    # counter, with the process's own (≥ 0.05 s by os.times(); /proc and times() round to their own
    # ticks: 2 ticks of slack, a run measured 0.14 against 0.10 + 0.04); both within what os.times()
    # counted around the snapshots.
    assert mine >= children + 0.05 - 2 / HZ
    assert mine <= (end.user + end.system + end.children_user + end.children_system) - (
        start.user + start.system + start.children_user + start.children_system) + 1e-9
    # The group (this process and whatever runs below it, e.g. servers started by the fixtures).
    assert used["groups"]["me"] >= mine
    assert used["machine"] >= mine - 2 / HZ
    assert used["seconds"] > 0


def test_the_command_line_writes_the_snapshots_and_the_diff(tmp_path):
    script = str(ROOT / "bench" / "load" / "cpu.py")
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        for name in ("before", "after"):
            subprocess.run([sys.executable, script, "snapshot", str(tmp_path / f"{name}.json"),
                            "--group", f"holder={holder.pid}", "--group", f"test={os.getpid()}"], check=True)
        subprocess.run([sys.executable, script, "diff", str(tmp_path / "before.json"), str(tmp_path / "after.json"),
                        str(tmp_path / "cpu.json")], check=True)
    finally:
        holder.communicate(b"")
    result = json.loads((tmp_path / "cpu.json").read_text())
    assert set(result["groups"]) == {"holder", "test"}
    # The test's group holds this process, the holder and the snapshot commands (children of this process).
    assert result["processes"]["holder"] == 1 and result["processes"]["test"] >= 2
    # The first snapshot command exited in between: reaped by this process, it counts in "test".
    assert result["groups"]["test"] > 0


def phase(name, n, seconds, groups, failures=0):
    return {"window": seconds, "state": {"flows": 10, "filed": 10, "police": 10},
            "samples": {name: [5.0] * n}, "steps": {}, "failures": {name: failures} if failures else {},
            "cpu": {"seconds": seconds, "cpus": 2, "machine": sum(groups.values()) + 1.0, "groups": groups,
                    "processes": {}}}


def test_the_report_prints_the_cpu_per_phase_and_the_server_cpu_per_request_of_the_flow_against_the_bare_view(
        tmp_path):
    (tmp_path / "flow.json").write_text(json.dumps(phase(
        "mandant : validité", 90, 10.0, {"gunicorn": 0.8, "postgres": 0.15, "redis": 0.05, "celery": 0.3,
                                          "smtp": 0.1, "locust": 4.0}, failures=10)))
    (tmp_path / "bare-1.json").write_text(json.dumps(phase(
        "vue nue (1 SELECT indexé)", 400, 10.0, {"gunicorn": 0.9, "postgres": 0.08, "redis": 0.02, "celery": 0.0,
                                                   "smtp": 0.0, "locust": 5.0})))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "load" / "report.py"), str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    flow = next(x for x in lines if x.startswith("flow "))
    bare = next(x for x in lines if x.startswith("bare-1 "))
    # flow: 100 requests (failures included), 1.0 s of server CPU -> 10 ms; bare: 400, 1.0 s -> 2.5 ms.
    assert flow.split() == ["flow", "100", "10.0", "0.80", "0.15", "0.05", "0.30", "0.10", "4.00", "1.00",
                            "10.00", "ms", "20%", "32%"]
    assert bare.split()[-4:] == ["2.50", "ms", "25%", "35%"]
    assert any("CPU serveur par requête, parcours ÷ vue nue" in x and "4.0 ×" in x and "info" in x for x in lines)
    assert any("part de la machine prise par locust, parcours" in x and "20%" in x for x in lines)
    # The existing verdicts are unchanged: the flow's efficiency against the same bare view.
    assert any("efficacité du parcours (req/s ÷ vue nue)" in x and "≥ 40 %" in x for x in lines)
