# Run inside a container by server.sh (python3 -c "$(cat isatty.py)" MODULE...):
# imports the modules the bench's import timing imports, then times Python's
# `isatty` check (an ioctl) on each of their source and cache files, opened
# afresh. FUSE sends every ioctl to its server, so on an image file it is a round
# trip between two processes; in extract mode the kernel answers it. GAP
# microseconds of busy work come before each call, as Python's own work comes
# between its opens (the server's CPU may go idle in between).
# Prints "GAP MEAN_US TOTAL_MS COUNT" per gap.
import importlib, os, sys, time

for name in sys.argv[1:]:
    importlib.import_module(name)

files = []
for module in list(sys.modules.values()):
    for path in (getattr(module, "__file__", None), getattr(module, "__cached__", None)):
        if path and os.path.isfile(path):
            files.append(path)

def busy(microseconds):
    end = time.perf_counter() + microseconds / 1e6
    while time.perf_counter() < end:
        pass

for gap in (0, 200):
    total = 0.0
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        busy(gap)
        start = time.perf_counter()
        os.isatty(fd)
        total += time.perf_counter() - start
        os.close(fd)
    print("%d %.1f %.2f %d" % (gap, total / len(files) * 1e6, total * 1e3, len(files)))
