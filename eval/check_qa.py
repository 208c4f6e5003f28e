"""Validate eval/qa.jsonl against the corpus (see notes/CONTRACT.md, "Eval set format")."""
import collections, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANS = str.maketrans({'\u00a0': ' ', '\u2019': "'", '\u2018': "'", '\u201c': '"', '\u201d': '"'})
TAGS = {"factoid", "who", "when", "how-many", "attribution", "opinion", "multi-turn", "unanswerable", "adversarial"}


def norm(s):
    return re.sub(r'\s+', ' ', s.translate(TRANS)).strip().lower()


def main(path=ROOT / "eval" / "qa.jsonl"):
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    ntexts = {k: norm(v) for k, v in texts.items()}
    errors, ids, tags, docs = [], set(), collections.Counter(), collections.Counter()
    for ln, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        it = json.loads(line)
        where = f"line {ln} ({it.get('id')})"
        if it["id"] in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(it["id"])
        if not it["turns"] or not all(isinstance(t, str) and t.strip() for t in it["turns"]):
            errors.append(f"{where}: bad turns")
        if set(it["tags"]) - TAGS:
            errors.append(f"{where}: unknown tags {set(it['tags']) - TAGS}")
        tags.update(it["tags"])
        if not it["answerable"]:
            if it["evidence"] or it["key_facts"] or it["answer"] or "unanswerable" not in it["tags"]:
                errors.append(f"{where}: unanswerable item must have empty evidence/key_facts/answer")
            continue
        if not it["evidence"] or not it["key_facts"] or not it["answer"]:
            errors.append(f"{where}: answerable item lacks evidence/key_facts/answer")
        for ev in it["evidence"]:
            if ev["doc"] not in texts:
                errors.append(f"{where}: unknown doc {ev['doc']}")
            elif ev["quote"] not in texts[ev["doc"]] and norm(ev["quote"]) not in ntexts[ev["doc"]]:
                errors.append(f"{where}: quote not in {ev['doc']}: {ev['quote'][:60]!r}")
        for d in {ev["doc"][:3] for ev in it["evidence"]}:
            docs[d] += 1
        quotes = [norm(ev["quote"]) for ev in it["evidence"]]
        for group in it["key_facts"]:
            if not any(norm(a) in q for a in group for q in quotes):
                errors.append(f"{where}: key-fact group {group} not in any evidence quote")
    print(f"{len(ids)} items; by tag: {dict(sorted(tags.items()))}; answerable items by doc: {dict(sorted(docs.items()))}")
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
