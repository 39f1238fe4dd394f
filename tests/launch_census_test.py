"""Every __global__ kernel in the tree was launched by the tests of this ctest run (the CUDA interpret
mode's launch census, PRIMER_INTERPRET=census=FILE): a kernel that no test launches is named, and fails.
Usage: launch_census_test.py CENSUS_FILE REPOSITORY"""
import pathlib
import re
import sys

census_file, repository = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
kernel = re.compile(r"__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(")
sources = [p for folder in ("kernels", "src") for p in (repository / folder).rglob("*.cu*")]
defined = {f"{path.name} {name}" for path in sources for name in kernel.findall(path.read_text())}
launched = {}
if census_file.exists():
    for line in census_file.read_text().splitlines():
        source, name, count = line.split()
        launched[f"{source} {name}"] = launched.get(f"{source} {name}", 0) + int(count)
never = sorted(defined - launched.keys())
for name in sorted(defined):
    print(f"{name}: {launched.get(name, 0)} launches")
if not defined:
    sys.exit("no __global__ kernel found: the census has nothing to check")
if never:
    sys.exit(f"{len(never)} of {len(defined)} kernels were never launched by a test: {', '.join(never)}")
print(f"all {len(defined)} kernels launched")
