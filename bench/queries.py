#!/usr/bin/env python3
"""Builds the search query mix for bench/search.sh: a URL list for `oha --urls-from-file`.

    python3 bench/queries.py LISTINGS.jsonl BASE_URL [--count 200] [--seed 1] [--sample 20000]

Deterministic: the same file prefix, count and seed give the same URLs. Only the first
`--sample` lines are read, and gen-listings output of a smaller N is a prefix of a larger
one, so every N >= the sample size gets the same mix (100k and 1M runs are comparable).

The mix (shares of --count; see KINDS below):
  short     1-2 words: attribute values from the file (equipment/service/material types,
            jobs, vehicles, uses) and industrial jargon incl. synonyms (铲车, 啤机, 冷库 ...),
            sometimes with a place name
  title     a whole listing title (long query: many words, many char bigrams)
  fragment  one space-separated chunk or the first 4-8 characters of a title
  quoted    a quoted phrase ("标准厂房") that must appear as written
  browse    no q at all: filters only, newest first
Filters drawn independently on top: side (35%), kind (30%; for title and fragment queries
mostly the kind of the listing the text came from), near+radius_km (20%,
radius 5/10/20/50 km around a community of the file), sort=distance (half of the near ones
without q), urgency (3%), available_on (5%). limit is the default (20).

Prints the URLs to stdout and a one-line breakdown to stderr; --kinds-out FILE writes the
type of each URL (short, title, ...) line by line.
"""

import argparse
import collections
import json
import random
import sys
from urllib.parse import urlencode, quote

JARGON = [
    "叉车", "铲车", "堆高车", "注塑机", "啤机", "加工中心", "CNC", "数控车床", "空压机",
    "冲床", "折弯机", "激光切割", "行车", "标准厂房", "仓库", "冷库", "洁净车间", "无尘车间",
    "危化品仓库", "宿舍", "堆场", "货车", "回程车", "半挂", "冷链运输", "集装箱", "高箱",
    "普工", "焊工", "电工", "叉车工", "质检", "检测", "盐雾试验", "三坐标", "电镀", "喷涂",
    "抛丸", "热处理", "模具", "钢材", "铝锭", "ADC12", "PP", "ABS", "纸箱", "托盘",
]
PLACES = ["北仑", "宁波", "大碶", "霞浦", "平湖", "嘉兴", "海盐", "上海", "杭州"]
ATTR_KEYS = ["equipment_type", "service_type", "material_name", "job_type", "vehicle_type",
             "usage"]
KINDS_ALL = ["space", "equipment", "material", "logistics", "workforce", "service"]
MIX = [("short", 0.40), ("title", 0.20), ("fragment", 0.20), ("quoted", 0.05),
       ("browse", 0.15)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listings")
    ap.add_argument("base_url")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=20000)
    ap.add_argument("--kinds-out", help="also write each URL's query type, one per line")
    a = ap.parse_args()

    titles, attrs, points, dates = [], collections.defaultdict(set), {}, []
    with open(a.listings, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= a.sample:
                break
            d = json.loads(line)
            titles.append((d["title"], d["kind"]))
            for k, v in (d.get("attributes") or {}).items():
                if k in ATTR_KEYS and isinstance(v, str) and 1 < len(v) <= 12:
                    attrs[k].add(v)
            loc = d.get("location") or {}
            if d.get("community") and "lat" in loc and d["community"] not in points:
                points[d["community"]] = (loc["lat"], loc["lon"])
            if d.get("available_from"):
                dates.append(d["available_from"])
    if not titles:
        sys.exit("queries.py: no listings read")
    words = sorted(set(JARGON) | {v for vs in attrs.values() for v in vs})
    centres = [points[k] for k in sorted(points)] or [(29.93, 121.87)]
    dates = sorted(set(dates)) or ["2027-01-01"]

    rng = random.Random(a.seed)
    counts = collections.Counter()
    kinds_out = open(a.kinds_out, "w", encoding="utf-8") if a.kinds_out else None
    base = a.base_url.rstrip("/") + "/api/v1/listings/search?"
    for _ in range(a.count):
        r, kind = rng.random(), MIX[-1][0]
        acc = 0.0
        for name, share in MIX:
            acc += share
            if r < acc:
                kind = name
                break
        counts[kind] += 1
        p, source_kind = [], None
        if kind == "short":
            q = rng.choice(words)
            x = rng.random()
            if x < 0.3:
                q += " " + rng.choice(words)
            elif x < 0.45:
                q = rng.choice(PLACES) + " " + q
            p.append(("q", q))
        elif kind == "title":
            t, source_kind = rng.choice(titles)
            p.append(("q", t))
        elif kind == "fragment":
            t, source_kind = rng.choice(titles)
            chunks = [c for c in t.split() if len(c) >= 2]
            if chunks and rng.random() < 0.5:
                p.append(("q", rng.choice(chunks)))
            else:
                p.append(("q", t[: rng.randint(4, 8)].strip()))
        elif kind == "quoted":
            p.append(("q", '"%s"' % rng.choice(words)))
        if rng.random() < 0.35 or kind == "browse" and rng.random() < 0.5:
            p.append(("side", rng.choice(["offer", "request"])))
        if rng.random() < 0.30 or kind == "browse" and rng.random() < 0.6:
            # A title-derived query mostly filters on the kind it came from.
            if source_kind and rng.random() < 0.7:
                p.append(("kind", source_kind))
            else:
                p.append(("kind", rng.choice(KINDS_ALL)))
        if rng.random() < 0.20 or kind == "browse" and rng.random() < 0.5:
            lat, lon = rng.choice(centres)
            p.append(("near", "%.4f,%.4f" % (lat, lon)))
            p.append(("radius_km", rng.choice(["5", "10", "20", "50"])))
            if kind == "browse" and rng.random() < 0.5:
                p.append(("sort", "distance"))
        if rng.random() < 0.03:
            p.append(("urgency", rng.choice(["urgent", "emergency", "urgent,emergency"])))
        if rng.random() < 0.05:
            p.append(("available_on", rng.choice(dates)))
        if kind == "browse" and not any(k == "sort" for k, _ in p):
            p.append(("sort", "newest"))
        print(base + urlencode(p, quote_via=quote))
        if kinds_out:
            kinds_out.write(kind + "\n")
    print("queries.py: %d URLs: %s" % (a.count, ", ".join(
        "%s %d" % (k, counts[k]) for k, _ in MIX)), file=sys.stderr)


if __name__ == "__main__":
    main()
