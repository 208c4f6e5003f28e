"""Speed bench: cold start, answer latency, index throughput, search at scale, vs LangChain.

Run it with ``make bench`` or ``python -m bench.run``; see bench/README.md for what each item
measures. Nothing here is imported by ``rag``.
"""
