# bench/proc_threads.py — CPU time of each thread of a running process, from /proc (Linux), for
# the bench's per-thread tools (insert_thread_cpu.py, writers_thread_cpu.py).
import os


def thread_cpu(pid):
    """{(thread name, tid): (user ticks, system ticks)} of every thread of `pid` still alive."""
    out = {}
    for t in os.listdir(f'/proc/{pid}/task'):
        try:
            name = open(f'/proc/{pid}/task/{t}/comm').read().strip()
            f = open(f'/proc/{pid}/task/{t}/stat').read().rsplit(')', 1)[1].split()
            out[(name, t)] = (int(f[11]), int(f[12]))
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return out
