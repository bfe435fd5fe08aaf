"""Signals a verdict is decided on (pure): how alike two texts are, "not found" phrases, challenge pages.

- :mod:`crawler.evidence.similarity`: shingled containment and resemblance of two texts, bounded in time;
- :mod:`crawler.evidence.notfound`: the "not found" phrases of many languages (the table is
  ``not_found.tsv``, one phrase a line), matched in a title or a main heading;
- :mod:`crawler.evidence.challenge`: the marks of challenge, captcha and block pages, vendor by vendor.

:func:`crawler.classify.classify` combines them, with the thresholds of
:class:`crawler.classify.Thresholds`; the values it computed are the event's
``evidence`` (docs/verdicts.md lists the keys).
"""
