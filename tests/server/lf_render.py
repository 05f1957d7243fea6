"""Langfuse's wire shapes for the test server: traces (list, details, full details),
v2 observation rows with their field groups, v3 scores."""


from lf_data import decimal_string, parse_iso_ms, public_obs, raw_io

TRACE_GROUPS = ("core", "io", "scores", "observations", "metrics")



def trace_metrics(obs_list):
    """(latency seconds, totalCost USD) over the given observations."""
    if not obs_list:
        return 0, 0
    starts = [parse_iso_ms(o["startTime"]) if "_st" not in o else o["_st"] for o in obs_list]
    ends = []
    for o, s in zip(obs_list, starts):
        e = o.get("endTime")
        ends.append(parse_iso_ms(e) if e else s)
    latency = round((max(ends) - min(starts)) / 1000.0, 3)
    cost = 0.0
    for o in obs_list:
        c = o.get("calculatedTotalCost")
        if c is None:
            c = (o.get("costDetails") or {}).get("total")
        cost += float(c or 0)
    return latency, round(cost, 12)


def trace_base(t, project_id, groups=TRACE_GROUPS):
    d = {"id": t["id"], "timestamp": t["timestamp"], "name": t.get("name")}
    if "io" in groups:
        d["input"] = t.get("input")
        d["output"] = t.get("output")
    d["sessionId"] = t.get("sessionId")
    d["release"] = t.get("release")
    d["version"] = t.get("version")
    d["userId"] = t.get("userId")
    if "io" in groups:
        d["metadata"] = t.get("metadata")
    d["tags"] = t.get("tags") or []
    d["public"] = bool(t.get("public", False))
    d["environment"] = t.get("environment") or "default"
    d["externalId"] = None
    d["bookmarked"] = bool(t.get("bookmarked", False))
    d["projectId"] = project_id
    d["createdAt"] = t.get("createdAt") or t["timestamp"]
    d["updatedAt"] = t.get("updatedAt") or d["createdAt"]
    return d


def trace_with_details(t, obs_list, scores, project_id, groups=TRACE_GROUPS):
    d = trace_base(t, project_id, groups)
    d["htmlPath"] = "/project/%s/traces/%s" % (project_id, t["id"])
    if "metrics" in groups:
        d["latency"], d["totalCost"] = trace_metrics(obs_list)
    else:
        d["latency"], d["totalCost"] = -1, -1
    d["observations"] = [o["id"] for o in obs_list] if "observations" in groups else []
    d["scores"] = [s["id"] for s in scores] if "scores" in groups else []
    return d


def obs_full_v1(o):
    """ObservationsView as in GET /traces/{id}: unmatched prices are 0, not null."""
    d = public_obs(o)
    for k in ("inputPrice", "outputPrice", "totalPrice"):
        if d.get(k) is None:
            d[k] = 0
    return d


def trace_full_details(t, obs_list, scores, project_id, groups=TRACE_GROUPS):
    """TraceWithFullDetails (GET /api/public/traces/{id}). obs_list in display order."""
    d = trace_base(t, project_id, groups)
    d["scores"] = [dict(s) for s in scores] if "scores" in groups else []
    if "metrics" in groups:
        d["latency"], d["totalCost"] = trace_metrics(obs_list)
    else:
        d["latency"], d["totalCost"] = -1, -1
    d["observations"] = [obs_full_v1(o) for o in obs_list] if "observations" in groups else []
    d["htmlPath"] = "/project/%s/traces/%s" % (project_id, t["id"])
    lat, cost = d.pop("latency"), d.pop("totalCost")
    # key order as the real server: ..., scores, latency, observations, htmlPath, totalCost
    out = {}
    for k, v in d.items():
        if k == "observations":
            out["latency"] = lat
        out[k] = v
    out["totalCost"] = cost
    return out


def render_v2(o, t, groups, expand, project_id):
    d = {"id": o["id"], "traceId": o.get("traceId"), "startTime": o["startTime"], "endTime": o.get("endTime"),
         "projectId": o.get("projectId") or project_id, "parentObservationId": o.get("parentObservationId"),
         "type": o.get("type")}
    t = t or {}
    if "basic" in groups:
        d["name"] = o.get("name")
        d["level"] = o.get("level") or "DEFAULT"
        d["statusMessage"] = o.get("statusMessage") if o.get("statusMessage") is not None else ""
        d["version"] = o.get("version") if o.get("version") is not None else ""
        d["environment"] = o.get("environment") or t.get("environment") or "default"
        d["bookmarked"] = bool(t.get("bookmarked", False))
        d["public"] = bool(t.get("public", False))
        d["userId"] = t.get("userId")
        d["sessionId"] = t.get("sessionId")
        d["isRootObservation"] = o.get("parentObservationId") is None
    if "time" in groups:
        d["completionStartTime"] = o.get("completionStartTime")
        d["createdAt"] = o.get("createdAt")
        d["updatedAt"] = o.get("updatedAt")
    if "io" in groups:
        d["input"] = raw_io(o.get("input"))
        d["output"] = raw_io(o.get("output"))
    if "metadata" in groups:
        md = o.get("metadata")
        if isinstance(md, dict):
            md = {k: (v[:200] if isinstance(v, str) and len(v) > 200 and k not in expand else v)
                  for k, v in md.items()}
        d["metadata"] = md if md is not None else {}
    if "model" in groups:
        d["model"] = o.get("model")
        d["internalModelId"] = o.get("modelId")
        d["modelParameters"] = o.get("modelParameters")
    if "usage" in groups:
        d["usageDetails"] = o.get("usageDetails") or {}
        d["inputUsage"] = o.get("promptTokens") or 0
        d["outputUsage"] = o.get("completionTokens") or 0
        d["totalUsage"] = o.get("totalTokens") or 0
        d["costDetails"] = o.get("costDetails") or {}
        d["inputCost"] = o.get("calculatedInputCost")
        d["outputCost"] = o.get("calculatedOutputCost")
        d["totalCost"] = o.get("calculatedTotalCost")
        d["usagePricingTierId"] = o.get("usagePricingTierId")
        d["usagePricingTierName"] = o.get("usagePricingTierName")
    if "prompt" in groups:
        d["promptId"] = o.get("promptId")
        d["promptName"] = o.get("promptName")
        d["promptVersion"] = o.get("promptVersion")
    if "trace_context" in groups:
        d["traceName"] = t.get("name")
        d["tags"] = t.get("tags") or []
        d["release"] = t.get("release")
    # metrics: always present in practice (computed from core fields)
    d["latency"] = o.get("latency")
    d["timeToFirstToken"] = o.get("timeToFirstToken")
    m = "model" in groups
    d["modelId"] = o.get("modelId") if m else None
    d["inputPrice"] = decimal_string(o.get("inputPrice")) if m else None
    d["outputPrice"] = decimal_string(o.get("outputPrice")) if m else None
    d["totalPrice"] = decimal_string(o.get("totalPrice")) if m else None
    return d


def score_v3(s, groups, project_id):
    """A dataset score (v1 shape) as /api/public/v3/scores renders it: one polymorphic value."""
    dt = s.get("dataType") or "NUMERIC"
    if dt == "BOOLEAN":
        value = bool(s.get("value"))
    elif dt in ("CATEGORICAL", "TEXT", "CORRECTION"):
        value = s.get("stringValue") if s.get("stringValue") is not None else str(s.get("value"))
    else:
        value = s.get("value")
    d = {"id": s["id"], "projectId": s.get("projectId") or project_id, "name": s.get("name"),
         "source": s.get("source") or "API", "timestamp": s["timestamp"],
         "environment": s.get("environment") or "default", "createdAt": s.get("createdAt") or s["timestamp"],
         "updatedAt": s.get("updatedAt") or s["timestamp"], "dataType": dt, "value": value}
    if "details" in groups:
        d["comment"] = s.get("comment")
        d["configId"] = s.get("configId")
        d["metadata"] = s.get("metadata") or {}
    if "annotation" in groups:
        d["authorUserId"] = s.get("authorUserId")
        d["queueId"] = s.get("queueId")
    if "subject" in groups:
        if s.get("observationId"):
            d["subject"] = {"kind": "observation", "id": s["observationId"], "traceId": s.get("traceId")}
        elif s.get("traceId"):
            d["subject"] = {"kind": "trace", "id": s["traceId"]}
        elif s.get("sessionId"):
            d["subject"] = {"kind": "session", "id": s["sessionId"]}
    return d
