"""``mahrem sample``: the deterministic synthetic corpus the pipeline runs on by default.

About 600 customer-support chats of a fictional Turkish bank, online shop and clinic —
mostly Turkish, some English, some code-switched — full of invented but *valid*
personal data (checksummed TCKNs, VKNs, IBANs and card numbers, dialable phone numbers,
real district/province pairs), with gold labels in a separate file:

    records:  {"id": "sample-00001", "messages": [{"role": ..., "content": ...}], "source": "sample"}
    labels:   {"id": "sample-00001",
               "pii": [{"field": "messages[1].content", "start": 12, "end": 23,
                        "type": "TR_NATIONAL_ID", "value": "12345678950"}],
               "special": [{"field": ..., "start": ..., "end": ..., "category": "HEALTH",
                            "value": "şeker hastasıyım"}]}

Modules: ``identifiers`` (numbers and their spellings), ``people`` (names, suffixes,
e-mail, birth dates), ``addresses``, ``special`` (special-category cues and harmless
look-alikes), ``scenarios`` (the conversation scripts), ``builder`` (messages with
offsets recorded as they are built) and ``corpus`` (the plan, the generator, the writer).
"""

from pipeline.sample.corpus import SampleConfig, SampleResult, generate_sample, write_sample

__all__ = ["SampleConfig", "SampleResult", "generate_sample", "write_sample"]
