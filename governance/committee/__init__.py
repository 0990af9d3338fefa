"""The committee: proposals and votes (``proposals``), meetings and interests (``meetings``),
drift (``drift``), and their letters (``notifications``). It decides what the shell carries out:
an adopted mandate is put in force by ``proposals.decision_apply``."""
