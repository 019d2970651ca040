#!/usr/bin/env python3
"""Writes matcher/data/divisions.tsv from the administrative-division table of
the PyPI package cpca (https://pypi.org/project/cpca/, version 0.5.5, MIT
licence, copyright (c) 2018 QinYuan Du), file cpca/resources/adcodes.csv:
every province, prefecture-level city and county-level division of mainland
China with its GB/T 2260 code and a WGS-84-ish centre point.

    pip download cpca==0.5.5 --no-deps -d /tmp/cpca
    cd /tmp/cpca && python3 -m zipfile -e cpca-0.5.5-py3-none-any.whl .
    python3 matcher/scripts/divisions_from_cpca.py /tmp/cpca/cpca/resources/adcodes.csv \
        > matcher/data/divisions.tsv

Output: one line per division, `code<TAB>name<TAB>lat<TAB>lon`, sorted by
code; the 6-digit code keeps the province (2), city (4) and county (6)
levels. Placeholder rows (市辖区, 县, 省直辖县级行政区划 …) and rows without
coordinates are left out.
"""
import csv
import sys

SKIP = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

rows = []
with open(sys.argv[1], encoding="utf-8") as f:
    for r in csv.DictReader(f):
        code = r["adcode"][:6]
        name = r["name"].strip()
        if name in SKIP or not r["latitude"] or not r["longitude"]:
            continue
        rows.append((code, name, float(r["latitude"]), float(r["longitude"])))
rows.sort()
print("# code\tname\tlat\tlon — from cpca 0.5.5 (MIT), see matcher/scripts/divisions_from_cpca.py")
for code, name, lat, lon in rows:
    print(f"{code}\t{name}\t{lat:.4f}\t{lon:.4f}")
