#!/usr/bin/env python3
"""Picks the listings whose matches bench/matches.sh asks for: a URL list for
`oha --urls-from-file`, through the API only (no database tools needed).

    TOKEN=... python3 bench/anchors.py BASE_URL [--count 500] [--seed 1] [--meta-out FILE]

How: the data is cut into cells, side x kind x community (2 x 6 x 7 = 84 with gen-listings
data). For every cell one search, `GET /api/v1/listings/search?side=S&kind=K&community=C
&sort=newest&limit=100`, gives the number of open listings in it (`total`) and its newest
ones. The --count picks are shared out over the cells in proportion to their totals (largest
remainder; every non-empty cell gets at least one when --count allows), so the sample has
the data's own mix of sides, kinds and communities. Within a cell the picks are spread
evenly over its newest listings (further pages through `next_cursor` only when a cell needs
more than 100 picks).

Why the newest: gen-listings draws every listing independently from one seeded stream, so
the newest listings of a cell are a fair sample of it, and a page costs one request where
reaching deep into a cell would cost a page per 100 listings. The picks are deterministic
for a given data folder (same data, same searches, same answers); the final order is
shuffled with --seed so that consecutive URLs come from different cells.

Prints the URLs (BASE/api/v1/listings/{id}/matches?limit=10) to stdout and a one-line
breakdown to stderr; --meta-out FILE writes, line by line in the same order, a TSV of
id, key, side, kind, community, title length (characters) and attribute count.
"""

import argparse
import json
import os
import random
import sys
import urllib.parse
import urllib.request

KINDS = ["space", "equipment", "material", "logistics", "workforce", "service"]
SIDES = ["offer", "request"]
PAGE = 100


def get(base, path, token, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    req = urllib.request.Request(url, headers={"authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, default=10, help="limit= of the matches URLs")
    ap.add_argument("--meta-out")
    a = ap.parse_args()
    token = os.environ.get("TOKEN") or sys.exit("anchors.py: TOKEN must hold an access token")
    base = a.base_url.rstrip("/")

    communities = sorted(get(base, "/api/v1/communities", token)["items"],
                         key=lambda c: c["name"])
    cells = []  # (side, kind, community, total, first page)
    for side in SIDES:
        for kind in KINDS:
            for c in communities:
                page = get(base, "/api/v1/listings/search", token, side=side, kind=kind,
                           community=c["id"], sort="newest", limit=PAGE)
                if page["total"] > 0 and page["items"]:
                    cells.append([side, kind, c, page["total"], page])
    if not cells:
        sys.exit("anchors.py: no open listings found")
    grand = sum(cell[3] for cell in cells)

    # Largest-remainder shares, then at least one per cell if the count allows.
    exact = [a.count * cell[3] / grand for cell in cells]
    quota = [int(x) for x in exact]
    for i in sorted(range(len(cells)), key=lambda i: (quota[i] - exact[i], i))[
            : a.count - sum(quota)]:
        quota[i] += 1
    if a.count >= len(cells):
        for i in range(len(cells)):
            while quota[i] == 0:
                j = max(range(len(cells)), key=lambda j: (quota[j], -j))
                quota[j] -= 1
                quota[i] += 1

    picks = []
    for (side, kind, c, total, page), q in zip(cells, quota):
        if q == 0:
            continue
        pool = [h["listing"] for h in page["items"]]
        cursor = page.get("next_cursor")
        while len(pool) < min(q, total) and cursor:
            more = get(base, "/api/v1/listings/search", token, side=side, kind=kind,
                       community=c["id"], sort="newest", limit=PAGE, cursor=cursor)
            pool += [h["listing"] for h in more["items"]]
            cursor = more.get("next_cursor")
        q = min(q, len(pool))
        for j in range(q):
            picks.append(pool[int((j + 0.5) * len(pool) / q)])

    random.Random(a.seed).shuffle(picks)
    meta = open(a.meta_out, "w", encoding="utf-8") if a.meta_out else None
    for l in picks:
        print("%s/api/v1/listings/%s/matches?limit=%d" % (base, l["id"], a.limit))
        if meta:
            meta.write("\t".join([l["id"], l.get("key") or "-", l["side"], l["kind"],
                                  l["community"]["name"], str(len(l["title"])),
                                  str(len(l.get("attributes") or {}))]) + "\n")
    by = {}
    for l in picks:
        by[(l["side"], l["kind"])] = by.get((l["side"], l["kind"]), 0) + 1
    print("anchors.py: %d listings picked from %d open ones in %d cells (side x kind x "
          "community): %s" % (len(picks), grand, len(cells), ", ".join(
              "%s/%s %d" % (s, k, by.get((s, k), 0)) for s in SIDES for k in KINDS)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
