#!/usr/bin/python3
"""werkzeug_oracle.py - random rules and paths, answered by werkzeug 2.2 and by enoki's route table.

Usage: /usr/bin/python3 tests/oracle/werkzeug_oracle.py --probe build/route-probe [--seed N] [--rounds N]

werkzeug is the oracle: a Map() as nameko builds it (strict_slashes and merge_slashes on). enoki
is asked through tests/oracle/route_probe.c, which the Makefile builds from the same objects as enoki
(`make oracle`; under `make check` with the sanitizers). Exits 1 on the first round with a disagreement and prints it.

Debian's werkzeug loads only in /usr/bin/python3. Known, deliberate differences are not generated:
rules enoki refuses at add time (duplicates). Ints beyond 64 bits and floats that overflow to inf
are: enoki carries them as json.dumps writes them.
"""
import argparse
import json
import os
import random
import subprocess
import sys
from urllib.parse import unquote

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))




# ---- generation ------------------------------------------------------------------------------

STATICS = ["a", "b", "ab", "x", "item", "a.b", "é", "v1", "-"]
CONVERTERS = [
    ("", "s"), ("string:", "s"), ("string(length=2):", "s2"), ("string(minlength=2,maxlength=3):", "s23"),
    ("int:", "i"), ("int(signed=True):", "i"), ("int(fixed_digits=2):", "i"), ("int(min=3, max=20):", "i"),
    ("float:", "f"), ("float(signed=True):", "f"), ("float(max=5.5):", "f"), ("path:", "p"),
    ("uuid:", "u"), ("any(a, b, ab):", "any"), ("any('x y', z):", "any2"),
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
SAMPLES = {
    "s": ["a", "b", "ab", "abc", "é", "a.b", "5", "1.5", "x y"],
    "s2": ["ab", "a", "abc", "éé"],
    "s23": ["ab", "abc", "a", "abcd"],
    "i": ["5", "12", "007", "-4", "20", "21", "٣", "2", "1.5", "x", "18446744073709551616",
          "-9223372036854775809", "٣" * 25, "0000000000000000000000012"],
    "f": ["1.5", "2", "-0.5", "5.5", "5.6", "0.0", "1.", "x", "9" * 400 + ".5", "-" + "9" * 400 + ".0"],
    "p": ["a", "a/b", "a/b/", "x/item", "é/é", ""],
    "u": ["0e8a5d5c-1234-5678-9abc-def012345678", "0E8A5D5C-1234-5678-9ABC-DEF012345678", "0e8a5d5c"],
    "any": ["a", "b", "ab", "c"],
    "any2": ["x y", "z", "x"],
}


def gen_rule(rng):
    """Returns (rule text, template) where template is a list of segments, each a list of
    ("s", text) or ("v", sample kind)."""
    segments = []
    nvar = 0
    for _ in range(rng.randint(1, 4)):
        pieces = []
        shape = rng.random()
        if shape < 0.45:
            pieces.append(("s", rng.choice(STATICS)))
        else:
            if rng.random() < 0.25:
                pieces.append(("s", rng.choice(STATICS)))
            for _ in range(1 if rng.random() < 0.8 else 2):
                conv, kind = rng.choice(CONVERTERS)
                pieces.append(("v", kind, f"<{conv}v{nvar}>"))
                nvar += 1
                if rng.random() < 0.3:
                    pieces.append(("s", rng.choice([".json", "-", "x", "."])))
        segments.append(pieces)
    text = ""
    for seg in segments:
        text += "/" + "".join(p[1] if p[0] == "s" else p[2] for p in seg)
    if rng.random() < 0.3:
        text += "/"
    return text, segments


def gen_path(rng, templates):
    segs = rng.choice(templates)
    out = []
    for seg in segs:
        part = ""
        for p in seg:
            if p[0] == "s":
                part += p[1] if rng.random() < 0.9 else rng.choice(STATICS)
            else:
                part += rng.choice(SAMPLES[p[1]])
        out.append(part)
    if rng.random() < 0.15 and len(out) > 1:
        out.pop(rng.randrange(len(out)))
    if rng.random() < 0.1:
        out.append(rng.choice(STATICS))
    path = "/" + "/".join(out)
    r = rng.random()
    if r < 0.25:
        path += "/"
    elif r < 0.35 and path.endswith("/"):
        path = path[:-1]
    if rng.random() < 0.05:
        path = "/" + path
    if rng.random() < 0.1:
        # Doubled slashes inside the path: werkzeug merges them and redirects (merge_slashes).
        cut = rng.randrange(len(path) + 1)
        path = path[:cut] + rng.choice(["/", "//"]) + path[cut:]
    return path


def werkzeug_answer(adapter, method, path):
    try:
        endpoint, values = adapter.match(path, method)
        return [200, endpoint, {k: (v if isinstance(v, (int, float, str)) else str(v))
                                for k, v in values.items()}]
    except MethodNotAllowed as e:
        return [405, ", ".join(sorted(e.valid_methods))]
    except RequestRedirect as e:
        return [308, unquote(e.new_url[len("http://localhost"):])]
    except NotFound:
        return [404]


def same(a, b):
    if a != b:
        return False
    if a[0] == 200:  # 1 == 1.0 in Python; the JSON types must agree too
        return all(type(a[2][k]) is type(b[2][k]) for k in a[2])
    return True


def run_round(probe, rng, verbose):
    rules = []
    for _ in range(rng.randint(1, 12)):
        text, template = gen_rule(rng)
        methods = ",".join(rng.sample(METHODS[:5], rng.randint(1, 3)))
        if rng.random() < 0.2:
            methods = " " + methods.lower().replace(",", " , ")
        rules.append((text, methods, template))
    paths = [(rng.choice(METHODS), gen_path(rng, [t for _, _, t in rules])) for _ in range(40)]

    cmds = [["add", r, m] for r, m, _ in rules] + [["compile"]]
    cmds += [["match", m, p] for m, p in paths]
    proc = subprocess.run([probe], input="\n".join(json.dumps(c) for c in cmds) + "\n",
                          capture_output=True, text=True, check=True)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]

    accepted = []
    for (text, methods, _), ans in zip(rules, answers):
        if ans[0] == 0:
            accepted.append((text, methods))
        elif "same rule as" not in ans[1]:
            return [f"enoki refused {text!r} [{methods}]: {ans[1]}"]
    url_map = Map([Rule(t, endpoint=i, methods=[m.strip().upper() for m in ms.split(",")])
                   for i, (t, ms) in enumerate(accepted)])
    adapter = url_map.bind("localhost")
    problems = []
    for (method, path), got in zip(paths, answers[len(rules) + 1:]):
        want = werkzeug_answer(adapter, method, path)
        if not same(want, got):
            problems.append(f"{method} {path!r}: werkzeug {want}, enoki {got}")
        elif verbose:
            print(f"ok {method} {path!r} {got}")
    if problems:
        problems.insert(0, "rules: " + "; ".join(f"{t} [{m}]" for t, m in accepted))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", required=True, help="the route_probe binary (make oracle builds it)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("ORACLE_SEED", "1")))
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    for r in range(args.rounds):
        rng = random.Random(args.seed * 1000003 + r)
        problems = run_round(args.probe, rng, args.verbose)
        if problems:
            print(f"round {r} (seed {args.seed}) disagrees:")
            print("\n".join("  " + p for p in problems))
            return 1
    print(f"werkzeug oracle: {args.rounds} rounds, seed {args.seed}: enoki agrees with werkzeug")
    return 0


if __name__ == "__main__":
    sys.exit(main())
