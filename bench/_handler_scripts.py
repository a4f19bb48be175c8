"""The child-process scripts of :mod:`bench.handlers` (each one is a fresh measured process).

Both scripts print ``tick`` lines as they go (the parent advances its progress bar) and their
result as one JSON line at the end. The warm script also prints ``reset`` between phases and
waits for a line on stdin: the parent empties the payment tables meanwhile (see
:mod:`bench.handlers` for why), so no phase runs against tables grown by the previous one.
"""

from __future__ import annotations

__all__ = ["COLD", "WARM"]

COLD = """\
import time
_t0, _c0 = time.perf_counter(), time.process_time()
import json, sys
{import_line}
_t1 = time.perf_counter()

class Context:
    aws_request_id = "bench-cold"
    def get_remaining_time_in_millis(self):
        return 30000

response = handler(json.loads(sys.argv[1]), Context())
assert response["statusCode"] == 201, response
_t2, _c2 = time.perf_counter(), time.process_time()
print(json.dumps({{"import_and_init": (_t1 - _t0) * 1000, "first_payment": (_t2 - _t1) * 1000,
                  "total": (_t2 - _t0) * 1000, "cpu": (_c2 - _c0) * 1000}}), flush=True)
__import__("os")._exit(0)  # a cold start ends at its answer: no interpreter teardown counted
"""

WARM = """\
import asyncio, copy, gc, json, sys, time
{import_line}

EVENT = json.loads(sys.argv[1])
WARMUP, SEQUENTIAL, ROUNDS, GROWTH, CHUNK = (int(a) for a in sys.argv[2:7])

class Context:
    def __init__(self, n):
        self.aws_request_id = f"bench-{{n}}"
    def get_remaining_time_in_millis(self):
        return 30000

def event(key):
    e = copy.deepcopy(EVENT)
    e["headers"]["idempotency-key"] = key
    return e

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

def reset():
    print("reset", flush=True)
    sys.stdin.readline()

n = 0
def invoke():
    global n
    n += 1
    started = time.perf_counter()
    response = handler(event(f"{{EVENT['headers']['idempotency-key']}}-{{n}}"), Context(n))
    assert response["statusCode"] == 201, response
    if n % 10 == 0:
        print("tick 10", flush=True)
    return (time.perf_counter() - started) * 1000

for _ in range(WARMUP):
    invoke()
reset()
cpu_started = time.process_time()  # this process's CPU: waiting for a reset costs none
sequential = []
for done in range(1, SEQUENTIAL + 1):
    sequential.append(invoke())
    if done % CHUNK == 0 and done < SEQUENTIAL:
        reset()
cpu_ms = (time.process_time() - cpu_started) / max(SEQUENTIAL, 1) * 1000

async def concurrent_round(r):
    loop = asyncio.get_running_loop()
    async def one(i):
        started = loop.time()
        key = f"{{EVENT['headers']['idempotency-key']}}-c{{r}}-{{i}}"
        response = await handler.__wrapped__(event(key), Context(i))
        assert response["statusCode"] == 201, response
        return (loop.time() - started) * 1000
    latencies = await asyncio.gather(*(one(i) for i in range(32)))
    print("tick 32", flush=True)
    return latencies

concurrent = []
for r in range(ROUNDS):
    reset()
    concurrent += run_in_lambda_loop(concurrent_round(r))

rss = []
if GROWTH:
    reset()
    gc.collect()
    before = rss_mb()
    for done in range(1, GROWTH + 1):
        invoke()
        if done % CHUNK == 0 and done < GROWTH:
            reset()
    gc.collect()
    rss = [before, rss_mb()]
print(json.dumps({{"sequential": sequential, "concurrent": concurrent, "cpu_ms": cpu_ms,
                  "rss": rss}}))
"""
