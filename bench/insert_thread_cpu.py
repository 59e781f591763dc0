#!/usr/bin/env python3
# bench/insert_thread_cpu.py — per-thread CPU of memgoosed per document during an insertMany
# load (`memgoose import`, batches of 1000, 4 in flight) of the benchmark's documents (bench/
# shape.h: email unique, status indexed, city+age) into one model of a database of the given
# storage; optionally a `perf record` of the daemon during the load. An engineering tool, not a
# suite (the bench's `backends` suite gives the rates):
#   /usr/bin/python3 bench/insert_thread_cpu.py [--storage wiredtiger] [--docs 300000]
#       [--memgoosed build/bin/memgoosed] [--perf perf.data]
# The client (the CLI, parsing NDJSON) is not measured: the daemon threads' CPU per document is.
import argparse, os, shutil, signal, subprocess, sys, tempfile, time
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tests', 'python'))
import zmq, mgwire
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proc_threads import thread_cpu

ap = argparse.ArgumentParser()
ap.add_argument('--storage', default='wiredtiger')
ap.add_argument('--docs', type=int, default=300000)
ap.add_argument('--memgoosed', default=os.path.join(here, '..', 'build', 'bin', 'memgoosed'))
ap.add_argument('--perf', help='perf record the daemon (DWARF call graphs) into this file')
ap.add_argument('--attach', help='a command run during the load, {pid} the daemon, e.g. '
                '"strace -c -f -e trace=memory -p {pid}" (stopped with SIGINT)')
a = ap.parse_args()
cli = os.path.join(os.path.dirname(os.path.abspath(a.memgoosed)), 'memgoose')
cities = ["New York", "London", "Paris", "Tokyo", "Berlin", "Sydney", "Toronto", "Madrid", "Rome", "Oslo"]
statuses = ["active", "inactive", "pending"]
d = tempfile.mkdtemp()
ndjson = os.path.join(d, 'docs.ndjson')
with open(ndjson, 'w') as f:  # bench_doc(i), as Extended JSON
    for i in range(a.docs):
        ms = 1700000000000 + i * 1000
        iso = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms // 1000)) + '.%03dZ' % (ms % 1000)
        f.write('{"email":"user%d@example.com","name":"User %d","age":%d,"city":"%s","status":"%s",'
                '"score":%.1f,"active":%s,"createdAt":{"$date":"%s"}}\n' %
                (i, i, 18 + i % 60, cities[i % 10], statuses[i % 3], (i % 1000) / 10.0,
                 'true' if i % 2 == 0 else 'false', iso))
port = 7900 + os.getpid() % 90
ep = f'tcp://127.0.0.1:{port}'
# The bench's daemon runs with the bench's malloc tunables (bench/main.cc: huge pages).
env = dict(os.environ)
env.setdefault('GLIBC_TUNABLES', 'glibc.malloc.hugetlb=1')
p = subprocess.Popen([a.memgoosed, '--bind', ep, '--pub', f'tcp://127.0.0.1:{port + 1}',
                      '--data-dir', os.path.join(d, 'data')], stderr=subprocess.DEVNULL, env=env)
time.sleep(0.5)
c = mgwire.Client(zmq.Context(), ep)
c.call('createDatabase', db='b', storage=a.storage)
c.call('defineModel', db='b', model='Bulk', schema={
    'fields': {'email': {'type': 'string', 'unique': True}, 'status': {'type': 'string', 'index': True}},
    'indexes': [{'fields': {'city': 1, 'age': 1}}]})


def cpu():
    return thread_cpu(p.pid)


perf = None
if a.perf:
    perf = subprocess.Popen(['perf', 'record', '--call-graph', 'dwarf,16384', '-F', '1000', '-p', str(p.pid), '-o', a.perf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
if a.attach:
    perf = subprocess.Popen(a.attach.replace('{pid}', str(p.pid)), shell=True)
    time.sleep(0.5)
before = cpu()
t0 = time.time()
subprocess.run([cli, '--endpoint', ep, 'import', 'b.Bulk', ndjson, '--batch', '1000'], check=True,
               stdout=subprocess.DEVNULL)
dt = time.time() - t0
after = cpu()
if perf:
    perf.send_signal(signal.SIGINT)
    perf.wait()
n = a.docs
print(f'{a.storage}: {n} docs imported in {dt:.2f} s ({n / dt:,.0f} docs/s, client included)')
agg = {}
for k, v in after.items():
    u0, s0 = before.get(k, (0, 0))
    agg.setdefault(k[0], [0, 0])
    agg[k[0]][0] += v[0] - u0
    agg[k[0]][1] += v[1] - s0
tck = os.sysconf('SC_CLK_TCK')
total = 0
for name, (u, s) in sorted(agg.items(), key=lambda x: -sum(x[1])):
    if u + s:
        total += u + s
        print(f'  {name:16s} user {u / tck * 1e6 / n:5.2f} sys {s / tck * 1e6 / n:5.2f} us/doc')
print(f'  {"total":16s} {total / tck * 1e6 / n:5.2f} us/doc')
p.send_signal(signal.SIGTERM)
p.wait()
shutil.rmtree(d, ignore_errors=True)
