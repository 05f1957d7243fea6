"""Synthetic values for the seeded test corpora (python3 standard library
only), shared by tests/eval/gen_*.py and tests/server/gen_dataset.py: the
draws they make from a seeded PRNG, the check digits that make synthetic
card numbers and IBANs well-formed (never real ones), and the eval record
that places one text somewhere in a LangGuard record.

The corpora are compared byte for byte across changes: a helper here must
keep the order and number of its PRNG draws, or every seeded output moves."""
import argparse
import base64
import json
import random

HEX = "0123456789abcdef"


class Rand:
    """A seeded PRNG; `alpha` is the alphabet of s() when none is named."""

    def __init__(self, seed, alpha=HEX):
        self.r = random.Random(seed)
        self.alpha = alpha

    def pick(self, v):
        return self.r.choice(v)

    def s(self, n, alpha=None):
        a = alpha or self.alpha
        return "".join(self.r.choice(a) for _ in range(n))

    def digits(self, n):
        return "".join(self.r.choice("0123456789") for _ in range(n))

    def hexid(self, bits):
        return "%0*x" % (bits // 4, self.r.getrandbits(bits))

    def ssn(self):
        """A US social security number of a valid area (not 000, 666, 9xx)."""
        while True:
            area = self.r.randrange(1, 900)
            if area != 666:
                break
        return "%03d-%02d-%04d" % (area, self.r.randrange(1, 100), self.r.randrange(1, 10000))


def luhn_digit(digits):
    """The Luhn check digit that makes digits + it a valid card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def iban_check(cc, bban):
    """The two ISO 13616 check digits (mod 97) of country cc's bban."""
    num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
    return "%02d" % (98 - num % 97)


def b64u(b):
    """base64url without padding, as JWTs write their parts."""
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def eval_record(ext_id, i, text, place, span_type, span_name, system=None):
    """A LangGuard record holding text at place: output, input, chat (a user
    message after the system prompt, if any), span-input, span-output or
    metadata (metadata.note)."""
    rec = {"externalId": ext_id, "name": "eval", "timestamp": "2026-01-01T00:00:%02d.000Z" % (i % 60),
           "input": "What is the status?", "output": "All good.", "metadata": {"env": "eval"},
           "spans": [{"id": "s1", "type": span_type, "name": span_name, "input": "hello", "output": "hi"}]}
    if place == "output":
        rec["output"] = text
    elif place == "input":
        rec["input"] = text
    elif place == "chat":
        msgs = [{"role": "user", "content": text}]
        if system:
            msgs.insert(0, {"role": "system", "content": system})
        rec["input"] = {"messages": msgs}
    elif place == "span-input":
        rec["spans"][0]["input"] = [{"role": "user", "content": text}]
    elif place == "span-output":
        rec["spans"][0]["output"] = {"content": text}
    elif place == "metadata":
        rec["metadata"]["note"] = text
    else:
        raise ValueError("no place %r" % place)
    return rec


def write_corpus(out, labels, pairs):
    """Writes each (record, label) of pairs as a line of out and of labels."""
    with open(out, "w", encoding="utf-8") as f, open(labels, "w", encoding="utf-8") as lf:
        for rec, lab in pairs:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            lf.write(json.dumps(lab, ensure_ascii=False) + "\n")


def corpus_args(doc, *extra):
    """The command line of a generator: --seed (default 1), --out and
    --labels (both required), then each (flag, keyword arguments) of extra."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", required=True)
    for flag, kw in extra:
        ap.add_argument(flag, **kw)
    return ap.parse_args()
