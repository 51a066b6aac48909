"""Compares two weekly report JSON files figure by figure: counts and texts exactly, ratios and
medians to 1e-4 (the baseline prints them rounded as the definitions say, so they are equal
unless floating point lands on the other side of a rounding boundary)."""
import json
import sys

TOLERANCE = 1e-4


def differences(a, b, path=""):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'first' if k in a else 'second'}")
            else:
                out += differences(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} rows against {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
    elif isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        if a != b:
            out.append(f"{path}: {a!r} against {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        exact = isinstance(a, int) and isinstance(b, int)
        if (exact and a != b) or abs(a - b) > TOLERANCE:
            out.append(f"{path}: {a!r} against {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r} against {b!r}")
    return out


def count_figures(a):
    if isinstance(a, dict):
        return sum(count_figures(v) for v in a.values())
    if isinstance(a, list):
        return sum(count_figures(v) for v in a)
    return 1


def main():
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    diff = differences(a, b)
    for d in diff:
        print(d)
    print(f"{count_figures(a)} figures, {len(diff)} differ")
    sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
