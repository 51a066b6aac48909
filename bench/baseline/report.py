#!/usr/bin/env python3
"""The weekly report of docs/metrics.md (definitions version 3), computed the way a data team
would: pandas and networkx over the exchange-format export, vectorised, no loops over rows.

    report.py EXPORT_DIR --week 2026-W47 --as-of 2026-12-10T00:00:00Z [--timezone UTC]
              [--min-group-size 5] [--pseudonym-key-file FILE] [--out report.json]

Prints the report JSON with the keys of the definitions (or writes it to --out) and, on stderr,
the seconds spent reading and computing.
"""
import argparse
import datetime as dt
import hashlib
import hmac
import json
import math
import sys
import time
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import pandas as pd

WINDOW = pd.Timedelta(hours=168)


def read(folder, name, times, columns=None):
    """One table of the export, read in chunks keeping only the columns the report uses."""
    path = f"{folder}/{name}.jsonl"
    chunks = []
    try:
        for chunk in pd.read_json(path, lines=True, dtype=False, convert_dates=False,
                                  chunksize=500_000):
            chunks.append(chunk[[c for c in columns if c in chunk]] if columns else chunk)
    except ValueError:  # an empty file
        pass
    df = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=columns or [])
    for c in times:
        if c in df:
            df[c] = pd.to_datetime(df[c], utc=True)
    return df


def week_start(zone, year, week):
    # Monday 00:00 local; a midnight that does not exist is the first instant of the day
    # (fold=0 maps a gap time with the offset before the change, which is that instant).
    d = dt.date.fromisocalendar(year, week, 1)
    local = dt.datetime(d.year, d.month, d.day, tzinfo=zone)
    return pd.Timestamp(local.astimezone(dt.timezone.utc))


def week_bounds(zone, year, week):
    start = week_start(zone, year, week)
    nxt = dt.date.fromisocalendar(year, week, 1) + dt.timedelta(days=7)
    y, w, _ = nxt.isocalendar()
    return start, week_start(zone, y, w)


def previous_week(year, week, n=1):
    d = dt.date.fromisocalendar(year, week, 1) - dt.timedelta(days=7 * n)
    y, w, _ = d.isocalendar()
    return y, w


def ratio(num, den):
    return None if den == 0 else num / den


def median_or_none(s):
    return None if len(s) == 0 else float(s.median())


def round_half_away(v, places):
    if v is None:
        return None
    q = 10 ** places
    r = math.floor(abs(v) * q + 0.5) / q
    r = math.copysign(r, v)
    return int(r) if r == int(r) else r


class Data:
    def __init__(self, folder):
        self.users = read(folder, "users", ["joined_at"])
        self.groups = read(folder, "groups", [])
        self.messages = read(folder, "messages", ["created_at"],
                             ["id", "group_id", "thread_id", "reply_to_id", "author_id",
                              "created_at", "deleted", "mentions"])
        # A reaction is one (message, person, kind): repeated lines are one, the last (§9).
        self.reactions = read(folder, "reactions", ["created_at"],
                              ["message_id", "user_id", "kind", "created_at"]).drop_duplicates(
                                  ["message_id", "user_id", "kind"], keep="last")
        self.prompts = read(folder, "prompts", ["posted_at", "closes_at"])
        self.answers = read(folder, "answers", ["answered_at"])
        u = self.users
        self.bots = set(u.loc[u["is_bot"], "id"])
        m = self.messages
        m["group_id"] = m["group_id"].where(m["group_id"] != "", None)
        m["is_bot"] = m["author_id"].isin(self.bots)
        self.author_of = m.set_index("id")["author_id"]  # every message, deleted ones too
        self.live = m[~m["deleted"]]
        # Reactions on non-deleted messages, with their time (§2) and the message's author.
        r = self.reactions.merge(
            self.live[["id", "author_id", "created_at", "reply_to_id", "group_id"]].rename(
                columns={"id": "message_id", "created_at": "msg_at", "author_id": "msg_author"}),
            on="message_id")
        r["at"] = r["created_at"].fillna(r["msg_at"])
        r["is_bot"] = r["user_id"].isin(self.bots)
        self.live_reactions = r

    def members(self, end):
        u = self.users
        ok = (~u["is_bot"]) & (u["state"] == "active") & (u["joined_at"].isna() | (u["joined_at"] < end))
        return u.loc[ok, "id"]


def totals(d, start, end):
    m = d.live[~d.live["is_bot"]]
    in_w = m[(m["created_at"] >= start) & (m["created_at"] < end)]
    posts = in_w[in_w["reply_to_id"].isna()]
    replies = in_w[in_w["reply_to_id"].notna()]
    r = d.live_reactions[~d.live_reactions["is_bot"]]
    r_w = r[(r["at"] >= start) & (r["at"] < end)]
    members = len(d.members(end))
    active = pd.concat([in_w["author_id"], r_w["user_id"]]).nunique()
    contributors = in_w["author_id"].drop_duplicates()
    first = m.groupby("author_id")["created_at"].min()
    first_of = first.reindex(contributors)
    new = int(((first_of >= start) & (first_of < end)).sum())
    # Responses: replies in the thread and reactions on the post by someone else within 168 h.
    p = posts[["id", "author_id", "created_at"]].rename(
        columns={"id": "post", "author_id": "post_author", "created_at": "post_at"})
    rep = m[m["reply_to_id"].notna()][["thread_id", "author_id", "created_at"]].merge(
        p, left_on="thread_id", right_on="post")
    delay = rep["created_at"] - rep["post_at"]
    rep = rep[(rep["author_id"] != rep["post_author"]) & (delay >= pd.Timedelta(0)) & (delay <= WINDOW)]
    rx = r[["message_id", "user_id", "at"]].merge(p, left_on="message_id", right_on="post")
    delay = rx["at"] - rx["post_at"]
    rx = rx[(rx["user_id"] != rx["post_author"]) & (delay >= pd.Timedelta(0)) & (delay <= WINDOW)]
    responded = pd.concat([rep["post"], rx["post"]]).nunique()
    first_reply = rep.groupby("post").agg(first=("created_at", "min"), post_at=("post_at", "first"))
    minutes = (first_reply["first"] - first_reply["post_at"]).dt.total_seconds() / 60
    return {
        "members": members,
        "posts": len(posts),
        "replies": len(replies),
        "reactions": len(r_w),
        "active_users": int(active),
        "contributors": len(contributors),
        "engagement_rate": ratio(active, members),
        "new_contributors": new,
        "replies_per_post": ratio(len(replies), len(posts)),
        "response_rate": ratio(responded, len(posts)),
        "median_first_response_minutes": median_or_none(minutes),
    }


def personas(d, start, end, members):
    m = d.live[~d.live["is_bot"]]
    in_w = m[(m["created_at"] >= start) & (m["created_at"] < end)]
    r = d.live_reactions[~d.live_reactions["is_bot"]]
    r_w = r[(r["at"] >= start) & (r["at"] < end)]
    made = pd.concat([in_w["author_id"], r_w["user_id"]]).value_counts()
    posts = in_w.loc[in_w["reply_to_id"].isna(), "author_id"].value_counts()
    replies = in_w.loc[in_w["reply_to_id"].notna(), "author_id"].value_counts()
    rep = in_w[in_w["reply_to_id"].notna()]
    parent_author = rep["reply_to_id"].map(d.author_of)  # a deleted parent still receives
    got_reply = parent_author[parent_author.notna() & (parent_author != rep["author_id"])]
    got_reaction = r_w.loc[r_w["msg_author"] != r_w["user_id"], "msg_author"]
    received = pd.concat([got_reply, got_reaction]).value_counts()
    t = pd.DataFrame(index=pd.Index(members, name="id"))
    t["made"] = made.reindex(t.index).fillna(0).astype(np.int64)
    t["received"] = received.reindex(t.index).fillna(0).astype(np.int64)
    t["posts"] = posts.reindex(t.index).fillna(0).astype(np.int64)
    t["replies"] = replies.reindex(t.index).fillna(0).astype(np.int64)
    observer = t["made"] == 0
    catalyst = ~observer & (t["received"] + 1 >= 2 * (t["made"] + 1))
    low = ~observer & ~catalyst & (2 * (t["received"] + 1) <= t["made"] + 1)
    broadcaster = low & (t["posts"] > t["replies"])
    responder = low & ~broadcaster
    engager = ~observer & ~catalyst & ~low
    return {
        "observer": int(observer.sum()),
        "catalyst": int(catalyst.sum()),
        "engager": int(engager.sum()),
        "broadcaster": int(broadcaster.sum()),
        "responder": int(responder.sum()),
    }


def network(d, start, end, key, opted_out):
    live = d.live
    in_w = live[(live["created_at"] >= start) & (live["created_at"] < end)]
    rep = in_w[in_w["reply_to_id"].notna()]
    replies = pd.DataFrame({"u": rep["author_id"], "v": rep["reply_to_id"].map(d.author_of)}).dropna()
    men = in_w[["id", "author_id", "mentions"]].explode("mentions").dropna(subset=["mentions"])
    men = men.drop_duplicates(["id", "mentions"])
    mentions = pd.DataFrame({"u": men["author_id"], "v": men["mentions"]})
    r = d.live_reactions
    r_w = r[(r["at"] >= start) & (r["at"] < end)]
    reactions = pd.DataFrame({"u": r_w["user_id"], "v": r_w["msg_author"]})
    e = pd.concat([replies, mentions, reactions], ignore_index=True)
    e = e[(e["u"] != e["v"]) & ~e["u"].isin(d.bots) & ~e["v"].isin(d.bots)]
    w = e.groupby(["u", "v"]).size().rename("weight").reset_index()
    nodes = pd.unique(pd.concat([w["u"], w["v"]]))
    n_nodes, n_edges = len(nodes), len(w)
    back = w.merge(w[["u", "v"]], left_on=["u", "v"], right_on=["v", "u"], suffixes=("", "_r"))
    out = {
        "nodes": n_nodes,
        "edges": n_edges,
        "reciprocity": ratio(len(back), n_edges),
        "density": None if n_nodes < 2 else n_edges / (n_nodes * (n_nodes - 1)),
    }
    # Home groups: the group of most of one's non-deleted messages before the end of W.
    g = live[live["group_id"].notna() & (live["created_at"] < end)]
    counts = g.groupby(["author_id", "group_id"]).size().rename("n").reset_index()
    counts = counts.sort_values(["author_id", "n", "group_id"], ascending=[True, False, True])
    home = counts.drop_duplicates("author_id").set_index("author_id")["group_id"]
    hu, hv = w["u"].map(home), w["v"].map(home)
    both = hu.notna() & hv.notna()
    out["cross_group_share"] = ratio(int(w.loc[both & (hu != hv), "weight"].sum()), int(w.loc[both, "weight"].sum()))
    top = []
    if n_nodes:
        graph = nx.DiGraph()
        graph.add_nodes_from(nodes)
        graph.add_weighted_edges_from(w[["u", "v", "weight"]].itertuples(index=False, name=None))
        try:
            rank = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-6 / n_nodes, max_iter=100)
        except nx.PowerIterationFailedConvergence:
            rank = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-6 / n_nodes, max_iter=1000)
        ranked = pd.Series(rank).rename("rank").reset_index().rename(columns={"index": "id"})
        ranked = ranked[~ranked["id"].isin(opted_out)]
        ranked = ranked.sort_values(["rank", "id"], ascending=[False, True]).head(10)
        top = [hmac.new(key, i.encode(), hashlib.sha256).hexdigest()[:12] for i in ranked["id"]]
    out["top_connectors"] = top
    return out


def suppress(rows, min_size, population, ident, numbers):
    small = [r for r in rows if r[population] < min_size]
    for r in rows:
        r["suppressed"] = r[population] < min_size
    if len(small) == 1 and len(rows) > 1:
        rest = [r for r in rows if not r["suppressed"]]
        if rest:
            min(rest, key=lambda r: (r[population], r[ident]))["suppressed"] = True
    for r in rows:
        if r["suppressed"]:
            for k in numbers:
                r[k] = None


def groups(d, start, end, min_size):
    members = set(d.members(end))
    mem = d.groups[["id", "name", "members"]].explode("members").dropna(subset=["members"])
    mem = mem[mem["members"].isin(members)].drop_duplicates(["id", "members"])
    m = d.live[~d.live["is_bot"] & d.live["group_id"].notna()]
    in_w = m[(m["created_at"] >= start) & (m["created_at"] < end)]
    r = d.live_reactions[~d.live_reactions["is_bot"] & d.live_reactions["group_id"].notna()]
    r_w = r[(r["at"] >= start) & (r["at"] < end)]
    posts = in_w[in_w["reply_to_id"].isna()].groupby("group_id").size()
    replies = in_w[in_w["reply_to_id"].notna()].groupby("group_id").size()
    reactions = r_w.groupby("group_id").size()
    acts = pd.concat([in_w[["group_id", "author_id"]].rename(columns={"author_id": "user"}),
                      r_w[["group_id", "user_id"]].rename(columns={"user_id": "user"})]).drop_duplicates()
    acts = acts.merge(mem.rename(columns={"id": "group_id", "members": "user"})[["group_id", "user"]])
    active = acts.groupby("group_id").size()
    n_members = mem.groupby("id").size()
    t = d.groups[["id", "name"]].set_index("id")
    rows = []
    for gid, name in t["name"].sort_index().items():  # one per group: the table, not the data
        mm = int(n_members.get(gid, 0))
        act = int(active.get(gid, 0))
        rows.append({"group_id": gid, "name": name, "members": mm, "active_users": act,
                     "posts": int(posts.get(gid, 0)), "replies": int(replies.get(gid, 0)),
                     "reactions": int(reactions.get(gid, 0)), "engagement_rate": ratio(act, mm)})
    suppress(rows, min_size, "members", "group_id",
             ["members", "active_users", "posts", "replies", "reactions", "engagement_rate"])
    return rows


def prompts_and_campaigns(d, start, end, min_size):
    p, a = d.prompts, d.answers
    if p.empty:
        return [], []
    members = set(d.members(end))
    groups = d.groups.set_index("id")["members"]
    a = a.merge(p[["id", "closes_at", "posted_at"]].rename(columns={"id": "prompt_id"}))
    a = a[~a["user_id"].isin(d.bots) & (a["closes_at"].isna() | (a["answered_at"] < a["closes_at"]))]
    first = a.sort_values(["answered_at", "message_id"]).drop_duplicates(["prompt_id", "user_id"])

    def audience(row):
        who = row["audience"] if isinstance(row["audience"], list) else groups.get(row["group_id"], [])
        return {u for u in who if u in members}

    upto = p[p["posted_at"] < end].copy()
    upto["aud"] = upto.apply(audience, axis=1)
    for col, default in (("spaced", False), ("last_step", None)):
        if col not in upto.columns:
            upto[col] = default
    upto["spaced"] = upto["spaced"].eq(True)
    week = upto[upto["posted_at"] >= start].copy()
    # A row per prompt; a spaced campaign's prompts of the week, one per question and group.
    week["row"] = week["id"]
    spaced = week["spaced"]
    week.loc[spaced, "row"] = (week.loc[spaced, "campaign"] + ":" + week.loc[spaced, "group_id"] +
                               ":q" + week.loc[spaced, "step"].astype(int).astype(str))
    # A prompt that names its people and is no spaced round: its place among the week's prompts
    # of its campaign, group and step (its own id may carry a join date).
    named = ~spaced & week["audience"].apply(lambda a: isinstance(a, list) and len(a) > 0)
    if named.any():
        n = week[named].sort_values(["posted_at", "id"])
        place = n.groupby(["campaign", "group_id", "step"]).cumcount() + 1
        week.loc[n.index, "row"] = (n["campaign"] + ":" + n["group_id"] + ":step" +
                                    n["step"].astype(int).astype(str) + ":" + place.astype(str))
    rows = []
    aud_of_row = {}
    for row_id, qs in week.sort_values("id").groupby("row", sort=True):
        q = qs.iloc[0]
        f = a[a["prompt_id"].isin(qs["id"])].sort_values(["answered_at", "message_id"])
        f = f.drop_duplicates(["user_id"])  # each person's earliest answer over the row
        minutes = (f["answered_at"] - f["posted_at"]).dt.total_seconds() / 60
        aud_of_row[row_id] = set().union(*qs["aud"])
        aud = len(aud_of_row[row_id])
        scored = q["type"] == "choice" and isinstance(q["correct"], str)
        rows.append({"prompt_id": row_id, "campaign": q["campaign"], "step": int(q["step"]),
                     "group_id": q["group_id"], "type": q["type"], "audience": aud,
                     "answerers": len(f), "response_rate": ratio(len(f), aud),
                     "median_minutes_to_answer": median_or_none(minutes),
                     "correct_rate": ratio(int((f["correct"] == True).sum()), len(f)) if scored else None})  # noqa: E712
    suppress(rows, min_size, "audience", "prompt_id",
             ["audience", "answerers", "response_rate", "median_minutes_to_answer", "correct_rate"])
    # Completion: every prompt of the campaign so far whose audience includes the person.
    pairs = upto[["id", "campaign", "aud"]].explode("aud").dropna(subset=["aud"])
    pairs = pairs.rename(columns={"aud": "user_id"}).merge(
        first[["prompt_id", "user_id"]].rename(columns={"prompt_id": "id"}).assign(ok=True),
        on=["id", "user_id"], how="left")
    pairs["ok"] = pairs["ok"].eq(True)
    complete = pairs.groupby(["campaign", "user_id"])["ok"].all()
    campaigns = []
    for name, qs in week.groupby("campaign"):  # one line per campaign
        ans = a[a["prompt_id"].isin(qs["id"])]
        participants = ans["user_id"].drop_duplicates()
        asked = set().union(*qs["aud"])
        took_part = len(asked & set(participants))
        mine = upto[upto["campaign"] == name]
        last = pd.to_numeric(mine["last_step"], errors="coerce")
        ended = bool((last.notna() & (mine["step"].astype(float) >= last)).any())
        completion = None
        if ended:
            index = pd.MultiIndex.from_arrays([[name] * len(participants), participants])
            done = int(complete.reindex(index).eq(True).sum())
            completion = ratio(done, len(participants))
        # Suppressed: an audience under the minimum, or suppressed rows put to fewer than the
        # minimum together.
        hidden = set().union(*(aud_of_row[r["prompt_id"]] for r in rows
                               if r["campaign"] == name and r["suppressed"]))
        small = len(asked) < min_size or 0 < len(hidden) < min_size
        line = {"campaign": name, "prompts": int(qs["row"].nunique()),
                "participants": len(participants), "answers": len(ans),
                "audience": len(asked), "participation_rate": ratio(took_part, len(asked)),
                "completion_rate": completion, "suppressed": small}
        if small:
            for k in ("participants", "answers", "audience", "participation_rate",
                      "completion_rate"):
                line[k] = None
        campaigns.append(line)
    return rows, campaigns


def rounded(t):
    out = {}
    for k, v in t.items():
        if k.startswith("median"):
            out[k] = round_half_away(v, 2)
        elif isinstance(v, float):
            out[k] = round_half_away(v, 4)
        else:
            out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("export")
    ap.add_argument("--week", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--timezone", default="UTC")
    ap.add_argument("--min-group-size", type=int, default=5)
    ap.add_argument("--pseudonym-key-file")
    ap.add_argument("--opted-out", default="", help="comma-separated user ids")
    ap.add_argument("--out")
    o = ap.parse_args()
    key = open(o.pseudonym_key_file, "rb").read().rstrip() if o.pseudonym_key_file else b""
    zone = ZoneInfo(o.timezone)
    year, week = int(o.week[:4]), int(o.week[6:])
    as_of = pd.Timestamp(o.as_of)

    t0 = time.perf_counter()
    d = Data(o.export)
    t1 = time.perf_counter()
    start, end = week_bounds(zone, year, week)
    prev = week_bounds(zone, *previous_week(year, week))
    start28 = week_start(zone, *previous_week(year, week, 3))
    now = totals(d, start, end)
    before = totals(d, *prev)
    delta = {}
    for k, v in now.items():
        b = before[k]
        delta[k] = None if v is None or b is None else v - b
    prompts, campaigns = prompts_and_campaigns(d, start, end, o.min_group_size)
    report = {
        "definitions_version": 7,
        "week": o.week,
        "timezone": o.timezone,
        "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of": o.as_of,
        "provisional": bool(end + pd.Timedelta(days=7) > as_of),
        "totals": rounded(now),
        "trend": rounded(before),
        "delta": rounded(delta),
        "personas": personas(d, start28, end, d.members(end)),
        "network": rounded(network(d, start28, end, key, set(filter(None, o.opted_out.split(","))))),
        "groups": [rounded(g) for g in groups(d, start, end, o.min_group_size)],
        "prompts": [rounded(p) for p in prompts],
        "campaigns": [rounded(c) for c in campaigns],
    }
    t2 = time.perf_counter()
    text = json.dumps(report, separators=(",", ":"))
    if o.out:
        with open(o.out, "w") as f:
            f.write(text)
    else:
        print(text)
    print(f"read {t1 - t0:.2f} s, computed {t2 - t1:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
