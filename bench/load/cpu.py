"""CPU seconds used by groups of processes between two snapshots, read from /proc (issue 16: where
the CPU goes in each load phase).

A group is a root process and all its descendants (gunicorn's master and workers, the postmaster and
its backends, ...). Each process counts utime + stime (its own CPU) + cutime + cstime (the CPU of
the children it has reaped), so a group's total is a cumulative counter: a backend that exits
during the phase moves its whole lifetime into the postmaster's cutime, and is subtracted at the
start through its own value; a process born during the phase counts from 0. diff() is therefore the
sum over the processes alive at the end minus the sum over those alive at the start. Missed: a
process that exits unreaped by the group (none here: every group's root waits for its children).

Also the machine's total CPU (/proc/stat), to see what the groups leave to everything else.

In process: snapshot({"gunicorn": pid, ...}) and diff(before, after) (bench/load/locustfile.py takes
them at the edges of the measured window). Command line, for a phase measured from outside:
    python bench/load/cpu.py snapshot BEFORE.json --group gunicorn=PID --group postgres=PID ...
    python bench/load/cpu.py snapshot AFTER.json --group gunicorn=PID ...
    python bench/load/cpu.py diff BEFORE.json AFTER.json [OUT.json]
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, int]:
    """(ppid, utime + stime + cutime + cstime in ticks) of one /proc/<pid>/stat line."""
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14 to 17.
    return int(fields[1]), sum(int(f) for f in fields[11:15])


def read_processes(proc: Path = Path("/proc")) -> dict[int, tuple[int, int]]:
    """pid -> (ppid, ticks) of every process readable now (one that exits while read is skipped)."""
    processes = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            processes[int(entry.name)] = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
    return processes


def descendants(processes: dict[int, tuple[int, int]], root: int) -> set[int]:
    """root and every process below it (root excluded if it is gone)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root] if root in processes else []
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += [c for c in children.get(pid, []) if c not in found]
    return found


def machine_ticks(proc: Path = Path("/proc")) -> int:
    """Busy ticks of every CPU together (/proc/stat: all but idle and iowait; guest is in user)."""
    cpu = (proc / "stat").read_text().splitlines()[0].split()
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in cpu[1:9])
    return user + nice + system + irq + softirq + steal


def snapshot(groups: dict[str, int], proc: Path = Path("/proc")) -> dict:
    """Per group, pid -> cumulative ticks of each process of its tree; plus the wall clock and machine."""
    processes = read_processes(proc)
    return {
        "time": time.time(),
        "ticks_per_second": CLOCK_TICKS,
        "cpus": os.cpu_count(),
        "machine": machine_ticks(proc),
        "groups": {name: {str(pid): processes[pid][1] for pid in descendants(processes, root)}
                   for name, root in groups.items()},
    }


def diff(before: dict, after: dict) -> dict:
    """CPU seconds of each group between the two snapshots, with the wall time and the machine's."""
    hz = after["ticks_per_second"]
    groups = {}
    for name, pids in after["groups"].items():
        start = before["groups"].get(name, {})
        groups[name] = (sum(pids.values()) - sum(start.values())) / hz
    return {
        "seconds": after["time"] - before["time"],
        "cpus": after["cpus"],
        "machine": (after["machine"] - before["machine"]) / hz,
        "groups": groups,
        "processes": {name: len(pids) for name, pids in after["groups"].items()},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("file")
    snap.add_argument("--group", action="append", default=[], help="name=root pid")
    dif = sub.add_parser("diff")
    dif.add_argument("before")
    dif.add_argument("after")
    dif.add_argument("out", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        Path(args.file).write_text(json.dumps(snapshot(groups_from_env(" ".join(args.group)))))
    else:
        result = json.dumps(diff(json.loads(Path(args.before).read_text()),
                                 json.loads(Path(args.after).read_text())), indent=1)
        if args.out:
            Path(args.out).write_text(result)
        else:
            print(result)


def groups_from_env(value: str) -> dict[str, int]:
    """"gunicorn=12 postgres=34" (BENCH_CPU_GROUPS) -> {"gunicorn": 12, "postgres": 34}."""
    return {name: int(pid) for name, _, pid in (g.partition("=") for g in value.split()) if pid}


if __name__ == "__main__":
    main(sys.argv[1:])
