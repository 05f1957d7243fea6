#!/usr/bin/env python3
"""Checks an lg store against the test server's dataset (make chaos).

    check.py DATASET EXPORT.ndjson CURSOR --mode cursor|final

cursor: Singer's rule after an interrupted run -- every observation that
  was visible from the start (no _visibleAfter) and starts before the stored
  cursor is in the store (as a span of its trace). Nothing else is required.
final: every trace of the dataset is stored exactly once with all its
  observations, and its token and cost totals equal the dataset's.
Prints one summary line; exit 0 when the rule holds, 1 otherwise (the first
few violations on stderr).
"""
import argparse
import json
import sys
from datetime import datetime, timezone


def ms(iso):
    if not iso:
        return None
    return int(datetime.strptime(iso.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
               .astimezone(timezone.utc).timestamp() * 1000) if "." in iso else \
        int(datetime.strptime(iso.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z").timestamp() * 1000)


def obs_tokens(o):
    ud = o.get("usageDetails") or {}
    if ud:
        if "total" in ud:
            return ud["total"]
        return sum(v for k, v in ud.items() if ("input" in k or "output" in k) and isinstance(v, (int, float)))
    u = o.get("usage") or {}
    return u.get("total") or 0


def obs_cost(o):
    cd = o.get("costDetails") or {}
    if "total" in cd:
        return cd["total"]
    for k in ("calculatedTotalCost", "totalCost"):
        if isinstance(o.get(k), (int, float)):
            return o[k]
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("export")
    ap.add_argument("cursor")
    ap.add_argument("--mode", choices=["cursor", "final"], required=True)
    a = ap.parse_args()

    ds = json.load(open(a.dataset))
    obs_by_trace = {}
    for o in ds["observations"]:
        obs_by_trace.setdefault(o["traceId"], []).append(o)

    stored = {}
    dup = 0
    with open(a.export) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r["externalId"] in stored:
                dup += 1
            stored[r["externalId"]] = r
    bad = []
    if dup:
        bad.append(f"{dup} externalIds exported twice")

    if a.mode == "cursor":
        cur = ms(a.cursor) if a.cursor else None
        need = 0
        missing = 0
        if cur is not None:
            for tid, obs in obs_by_trace.items():
                spans = {s.get("id") for s in (stored.get(tid) or {}).get("spans") or []}
                for o in obs:
                    if o.get("_visibleAfter"):
                        continue
                    if ms(o["startTime"]) < cur:
                        need += 1
                        if o["id"] not in spans:
                            missing += 1
                            if len(bad) < 5:
                                bad.append(f"observation {o['id']} of trace {tid} starts before the cursor {a.cursor} but is not stored")
        print(f"cursor {a.cursor or '(none)'}: {need} observations before it, {missing} missing, {len(stored)} traces stored")
        if missing:
            bad.insert(0, f"{missing} observations before the cursor are missing")
    else:
        lost = 0
        wrong = 0
        for t in ds["traces"]:
            tid = t["id"]
            r = stored.get(tid)
            obs = obs_by_trace.get(tid, [])
            if r is None:
                lost += 1
                if len(bad) < 5:
                    bad.append(f"trace {tid} lost")
                continue
            spans = r.get("spans") or []
            ids = [s.get("id") for s in spans]
            want_tok = sum(obs_tokens(o) for o in obs)
            want_cost = round(sum(obs_cost(o) for o in obs), 9)
            got_tok = ((r.get("metadata") or {}).get("tokens") or {}).get("total")
            got_cost = round((r.get("metadata") or {}).get("cost") or 0, 9)
            if sorted(ids) != sorted(o["id"] for o in obs) or len(ids) != len(set(ids)) \
                    or got_tok != want_tok or abs(got_cost - want_cost) > 1e-9:
                wrong += 1
                if len(bad) < 5:
                    bad.append(f"trace {tid}: {len(ids)} spans (want {len(obs)}), tokens {got_tok} (want {want_tok}), "
                               f"cost {got_cost} (want {want_cost})")
        extra = len(set(stored) - {t["id"] for t in ds["traces"]})
        print(f"final: {len(ds['traces'])} traces in the dataset, {len(stored)} stored, lost {lost}, "
              f"wrong totals {wrong}, unknown {extra}, duplicates {dup}")
        if lost or wrong or extra:
            bad.insert(0, f"lost {lost}, wrong {wrong}, unknown {extra}")
    for b in bad[:6]:
        print("  " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
