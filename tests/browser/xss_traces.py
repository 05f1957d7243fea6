#!/usr/bin/env python3
"""Adds hostile traces to a dataset of tests/server/gen_dataset.py: their
name, input, output, metadata, agent name and span names hold markup that
runs script if a page ever inserts it as HTML. The console must show all of
it as text. Each payload sets window.__xss (and calls alert), which the
browser test watches for.

    xss_traces.py DATASET.json END_ISO
"""
import copy
import json
import sys
from datetime import datetime, timedelta, timezone

SCRIPT = '<script>window.__xss=1;alert(1)</script>'
IMG = '"><img src=x onerror="window.__xss=2;alert(2)">'
SVG = "'><svg onload=window.__xss=3>"


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)


def main():
    path, end = sys.argv[1], sys.argv[2]
    end_t = datetime.strptime(end, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=timezone.utc)
    with open(path) as f:
        d = json.load(f)
    project = d['project']['id']
    for n in (1, 2):
        tid = 'xss-trace-%d' % n
        # Two days and an hour back: outside the pages' default periods,
        # so the screenshots show the ordinary traces; the test asks for them.
        start = end_t - timedelta(hours=49, minutes=10 * n)
        # An email after the payload gives lg-policy a finding inside the
        # hostile string, so its highlight is drawn from it.
        text = 'Hello ' + SCRIPT + ' and ' + IMG + ' mail jane.doe@example.com ' + SVG
        d['traces'].append({
            'id': tid, 'timestamp': iso(start), 'name': SCRIPT + IMG + ' #%d' % n,
            'input': {'messages': [{'role': 'user', 'content': text}]},
            'output': {'role': 'assistant', 'content': IMG + ' done'},
            'sessionId': 'sess_' + IMG, 'userId': 'user_' + SCRIPT, 'release': None, 'version': None,
            'metadata': {'agent_name': 'XSS ' + IMG, IMG: SCRIPT, 'note': SVG},
            'tags': [SCRIPT], 'public': False, 'environment': 'production', 'bookmarked': False,
            'createdAt': iso(start), 'updatedAt': iso(start)})
        root = {
            'id': tid + '-root', 'projectId': project, 'traceId': tid, 'parentObservationId': None,
            'name': SCRIPT, 'type': 'SPAN', 'environment': 'production',
            'startTime': iso(start), 'endTime': iso(start + timedelta(milliseconds=1500)),
            'version': None, 'createdAt': iso(start), 'updatedAt': iso(start),
            'input': text, 'output': IMG, 'metadata': {'agent_name': 'XSS ' + IMG, IMG: SCRIPT, 'note': SVG}, 'level': 'DEFAULT',
            'statusMessage': None, 'model': None, 'usageDetails': {}, 'costDetails': {}, 'latency': 1.5}
        gen = copy.deepcopy(root)
        gen.update({'id': tid + '-llm', 'parentObservationId': root['id'], 'name': IMG, 'type': 'GENERATION',
                    'startTime': iso(start + timedelta(milliseconds=100)),
                    'endTime': iso(start + timedelta(milliseconds=1200)), 'latency': 1.1,
                    'model': 'gpt-4o', 'statusMessage': SCRIPT, 'level': 'ERROR',
                    'usageDetails': {'input': 100, 'output': 20, 'total': 120},
                    'costDetails': {'total': 0.0012}})
        d['observations'] += [root, gen]
    with open(path, 'w') as f:
        json.dump(d, f)


if __name__ == '__main__':
    main()
