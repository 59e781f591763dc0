#!/usr/bin/env python3
# bench/writers_thread_cpu.py — per-thread CPU of memgoosed per write while N writers (processes, one
# blocking insertOne in flight each, pyzmq + msgpack through tests/python/mgwire.py) write into a
# file-immediate model; and writes per commit from `stats`. An engineering tool, not a suite:
#   /usr/bin/python3 bench/writers_thread_cpu.py [MEMGOOSED] [WRITERS=16] [PER_WRITER=1000]
# Python clients are slow, so the rate is not the figure: the daemon threads' CPU per write is.
import os, sys, subprocess, time, tempfile, signal, multiprocessing as mp
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'python'))
import zmq, mgwire
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proc_threads import thread_cpu
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'build', 'bin', 'memgoosed')
nw = int(sys.argv[2]) if len(sys.argv) > 2 else 16
per = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
port = 7700 + os.getpid() % 200
ep = f'tcp://127.0.0.1:{port}'
d = tempfile.mkdtemp()
p = subprocess.Popen([binary, '--bind', ep, '--pub', f'tcp://127.0.0.1:{port+1}', '--data-dir', d], stderr=subprocess.DEVNULL)
time.sleep(0.5)
c = mgwire.Client(zmq.Context(), ep)
c.call('createDatabase', db='b', storage='file', options={'persistMode': 'immediate'})
c.call('defineModel', db='b', model='W', schema={"fields": {"email": {"type": "string", "unique": True}}})
def writer(k, start):
    cl = mgwire.Client(zmq.Context(), ep)
    start.wait()
    for i in range(per):
        r = cl.call('insertOne', db='b', model='W', doc={"email": f"u{k}_{i}@x", "name": "User", "age": 30})
        assert r['ok'], r
def cpu():
    return thread_cpu(p.pid)
start = mp.Barrier(nw + 1)
ps = [mp.Process(target=writer, args=(k, start)) for k in range(nw)]
for q in ps: q.start()
time.sleep(1.0)
a = cpu(); t0 = time.time(); start.wait()
for q in ps: q.join()
dt = time.time() - t0; b = cpu()
n = nw * per
st = c.call('stats')
commits = [m for db in st['databases'] if db['name'] == 'b' for m in db['models']][0].get('commits', 0)
print(f'{nw} writers: {n/dt:,.0f} writes/s, {n/max(commits,1):.1f} writes/commit')
agg = {}
for k, v in b.items():
    u0, s0 = a.get(k, (0, 0)); agg.setdefault(k[0], [0, 0]); agg[k[0]][0] += v[0] - u0; agg[k[0]][1] += v[1] - s0
tck = os.sysconf('SC_CLK_TCK')
for name, (u, s) in sorted(agg.items(), key=lambda x: -sum(x[1])):
    if u + s: print(f'  {name:16s} user {u/tck*1e6/n:6.1f} sys {s/tck*1e6/n:6.1f} us/write')
p.send_signal(signal.SIGTERM); p.wait()
