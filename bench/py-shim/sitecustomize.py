# Benchmark shim for Debian's fence-agents on Python >= 3.11: fence_compute and fence_evacuate call
# inspect.getargspec(), which Python 3.11 removed; restore it on top of getfullargspec. Loaded only when this
# directory is on PYTHONPATH (bench/bench.ts does that for the reference agents, and says so in its output).
import collections
import inspect

if not hasattr(inspect, 'getargspec'):
    ArgSpec = collections.namedtuple('ArgSpec', 'args varargs keywords defaults')

    def getargspec(func):
        s = inspect.getfullargspec(func)
        return ArgSpec(s.args, s.varargs, s.varkw, s.defaults)

    inspect.ArgSpec = ArgSpec
    inspect.getargspec = getargspec
